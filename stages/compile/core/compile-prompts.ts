import { generationPromptSchema, type GenerationPrompt } from '../../../schemas/generation-prompt.ts';
import type { AnalyzedImage } from '../../analyze/analysis-result.ts';
import { hashCanonical } from '../../../lib/canonical-json.ts';
import { compareText } from '../../../lib/compare-text.ts';
import { applyRules } from './apply-rules.ts';
import { describeCharacterReferences, planPromptReferences } from './plan-prompt-references.ts';
import type { CompileSettings } from '../../../schemas/compile-settings.ts';
import type { PromptTemplates } from '../load-prompt-templates.ts';

/**
 * Stage two, pure: records in, prompts out. The same records (in any order), templates and settings always give
 * byte-identical prompts; a prompt's key hashes what the image depends on, not the file name, so two names of the
 * same bytes share one paid image.
 */
export function compilePrompts(options: { records: readonly AnalyzedImage[]; templates: PromptTemplates; settings: CompileSettings }): GenerationPrompt[] {
  const { settings } = options;
  const records = [...options.records].sort((left, right) => compareText(left.sourcePath, right.sourcePath));
  const prompts: GenerationPrompt[] = [];
  for (const analyzed of records) {
    const record = applyRules(analyzed.record, settings);
    const carried = settings.useReferenceImage ? planPromptReferences({ analyzed, model: settings.model }) : { references: [], leftOut: [] };
    // One reference: the prompt and its key are what they were before characters were folders (nothing paid twice).
    const several = carried.references.length > 1;
    for (let variant = 1; variant <= settings.variants; variant += 1) {
      const rendered = options.templates.render({
        ...record,
        variant,
        variantCount: settings.variants > 1 ? settings.variants : 0,
        image: { ...settings.imageConfig },
        source: { path: analyzed.sourcePath },
      });
      const prompt = several ? `${rendered}\n${describeCharacterReferences(carried.references.length)}` : rendered;
      const content = {
        prompt,
        model: settings.model,
        imageConfig: settings.imageConfig,
        useReferenceImage: settings.useReferenceImage,
        referenceSha256: settings.useReferenceImage && !several ? (carried.references[0]?.sha256 ?? analyzed.sha256) : undefined,
        ...(several ? { referenceSha256s: carried.references.map((reference) => reference.sha256) } : {}),
        variant,
        safetySettings: settings.safetySettings,
      };
      prompts.push(
        generationPromptSchema.parse({
          key: hashCanonical(content),
          sourceImage: { path: analyzed.sourcePath, sha256: analyzed.sha256, mimeType: analyzed.mimeType },
          variant,
          prompt,
          model: settings.model,
          imageConfig: settings.imageConfig,
          useReferenceImage: settings.useReferenceImage,
          ...(carried.references.length > 0 ? { references: carried.references } : {}),
          ...(carried.leftOut.length > 0 ? { leftOutReferences: carried.leftOut } : {}),
          ...(settings.safetySettings ? { safetySettings: settings.safetySettings } : {}),
        }),
      );
    }
  }
  return prompts;
}
