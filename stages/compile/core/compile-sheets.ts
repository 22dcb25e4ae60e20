import { hashCanonical } from '../../../lib/canonical-json.ts';
import { compareText } from '../../../lib/compare-text.ts';
import { findServedModel } from '../../../schemas/gemini-models.ts';
import { generationPromptSchema, listPromptReferences, type GenerationPrompt, type PromptReference } from '../../../schemas/generation-prompt.ts';
import type { CompileSettings } from '../../../schemas/compile-settings.ts';
import type { Shot } from '../../../schemas/shot-settings.ts';
import type { AnalyzedImage } from '../../analyze/analysis-result.ts';
import type { PromptTemplates } from '../load-prompt-templates.ts';
import { applyRules } from './apply-rules.ts';
import { assemblePrompt } from './compile-prompts.ts';
import { describeCharacterReferences, planPromptReferences } from './plan-prompt-references.ts';

/** The sheet's place among a character's outputs: a shot of its own name (`knight-turnaround-sheet.jpg`). */
export const sheetShotName = 'turnaround sheet';

/** Three whole figures side by side: a wide frame, whatever the shots' frame. */
const sheetAspectRatio = '16:9';

const sheetLine = "The first attached image is this character's turnaround sheet (front, side and back): keep the character exactly as it shows.";

/**
 * Pure: one turnaround sheet prompt per character (synthesize.sheet), from templates/sheet.hbs, carrying the
 * character's references as its shots do. Its key is its own (`kind: 'sheet'`), never a shot's.
 */
export function compileSheetPrompts(options: { records: readonly AnalyzedImage[]; templates: PromptTemplates; settings: CompileSettings }): GenerationPrompt[] {
  const { settings, templates } = options;
  if (!templates.renderSheet) throw templates.describeProblem('synthesize.sheet is on, but the templates have no sheet.hbs');
  const renderSheet = templates.renderSheet;
  const shot: Shot = { variant: 1, name: sheetShotName };
  const records = [...options.records].sort((left, right) => compareText(left.sourcePath, right.sourcePath));
  return records.map((analyzed) => {
    const record = applyRules(analyzed.record, settings);
    const carried = settings.useReferenceImage ? planPromptReferences({ analyzed, model: settings.model }) : { references: [], leftOut: [] };
    const imageConfig = { ...settings.imageConfig, aspectRatio: sheetAspectRatio } as const;
    const rendered = renderSheet({ ...record, variant: 1, variantCount: 0, shot: null, image: { ...imageConfig }, source: { path: analyzed.sourcePath } });
    const prompt = carried.references.length > 1 ? `${rendered}\n${describeCharacterReferences(carried.references.length)}` : rendered;
    const content = { kind: 'sheet', prompt, model: settings.model, imageConfig, referenceSha256s: carried.references.map((reference) => reference.sha256), safetySettings: settings.safetySettings };
    return assemblePrompt({ analyzed, shot, content, prompt, imageConfig, carried, settings });
  });
}

/**
 * Pure: a shot with its character's sheet as its first reference (the sheet's bytes, as found in the output folder),
 * the other references after it up to the image model's limit, the rest left out as before. The key covers the
 * sheet's bytes, so a sheet changed by hand asks its character's shots again, and nothing else.
 */
export function attachSheet(prompt: GenerationPrompt, sheet: PromptReference): GenerationPrompt {
  const others = listPromptReferences(prompt);
  const limit = findServedModel(prompt.model)?.image?.maxReferenceImages ?? others.length + 1;
  const kept = others.slice(0, Math.max(0, limit - 1));
  const leftOut = [...others.slice(kept.length).map((reference) => reference.path), ...(prompt.leftOutReferences ?? [])];
  const { leftOutReferences: _leftOut, ...rest } = prompt;
  return generationPromptSchema.parse({
    ...rest,
    key: hashCanonical({ shot: prompt.key, sheet: sheet.sha256, references: kept.map((reference) => reference.sha256) }),
    prompt: `${prompt.prompt}\n${sheetLine}`,
    useReferenceImage: true,
    references: [sheet, ...kept],
    ...(leftOut.length > 0 ? { leftOutReferences: leftOut } : {}),
  });
}
