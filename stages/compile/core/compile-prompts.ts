import { generationPromptSchema, type GenerationPrompt } from '../../../schemas/generation-prompt.ts';
import type { AnalyzedImage } from '../../analyze/analysis-result.ts';
import { hashCanonical } from '../../../lib/canonical-json.ts';
import { compareText } from '../../../lib/compare-text.ts';
import { applyRules } from './apply-rules.ts';
import { describeCharacterReferences, planPromptReferences } from './plan-prompt-references.ts';
import type { CompileSettings } from '../../../schemas/compile-settings.ts';
import type { PromptTemplates } from '../load-prompt-templates.ts';
import type { AnalysisRecord } from '../../../schemas/analysis.ts';
import { listShots, type Shot } from '../../../schemas/shot-settings.ts';
import { deriveSeed, identifyCharacter } from './derive-seed.ts';
import type { PromptReference } from '../../../schemas/generation-prompt.ts';

/**
 * Stage two, pure: records in, prompts out. The same records (in any order), templates and settings always give
 * byte-identical prompts; a prompt's key hashes what the image depends on, not the file name, so two names of the
 * same bytes share one paid image.
 */
export function compilePrompts(options: { records: readonly AnalyzedImage[]; templates: PromptTemplates; settings: CompileSettings }): GenerationPrompt[] {
  const { settings } = options;
  const records = [...options.records].sort((left, right) => compareText(left.sourcePath, right.sourcePath));
  const shots = listShots(settings.variants);
  const prompts: GenerationPrompt[] = [];
  for (const analyzed of records) {
    const record = applyRules(analyzed.record, settings);
    // The character's references its requests carry; one reference: the prompt and its key are what they were before
    // characters were folders (nothing paid twice).
    const carried = settings.useReferenceImage ? planPromptReferences({ analyzed, model: settings.model }) : { references: [], leftOut: [] };
    const rendered = shots.map((shot) => compileShot({ analyzed, record, carried, shot, shots, options }));
    checkShotsInPrompt({ prompts: rendered, templates: options.templates });
    prompts.push(...rendered);
  }
  return prompts;
}

function compileShot(context: {
  analyzed: AnalyzedImage;
  record: AnalysisRecord;
  carried: { references: PromptReference[]; leftOut: string[] };
  shot: Shot;
  shots: readonly Shot[];
  options: { templates: PromptTemplates; settings: CompileSettings };
}): GenerationPrompt {
  const { analyzed, shot, carried } = context;
  const several = carried.references.length > 1;
  const { settings } = context.options;
  const { variant } = shot;
  const imageConfig = shot.aspectRatio === undefined ? settings.imageConfig : { ...settings.imageConfig, aspectRatio: shot.aspectRatio };
  const numbered = shot.name === undefined;
  const rendered = context.options.templates.render({
    ...context.record,
    variant,
    // A named shot says what it is itself; "variation 2 of 3" is for numbered variants only.
    variantCount: numbered && context.shots.length > 1 ? context.shots.length : 0,
    shot: numbered ? null : { name: shot.name, prompt: shot.prompt ?? shot.name },
    image: { ...imageConfig },
    source: { path: analyzed.sourcePath },
  });
  const prompt = several ? `${rendered}\n${describeCharacterReferences(carried.references.length)}` : rendered;
  // A numbered variant's content is what it has always been (its key, and so its paid image, survive an upgrade); a
  // named shot is known by its name, not its place, so reordering the list or adding a shot changes no other key.
  const content = {
    prompt,
    model: settings.model,
    imageConfig,
    useReferenceImage: settings.useReferenceImage,
    referenceSha256: settings.useReferenceImage && !several ? (carried.references[0]?.sha256 ?? analyzed.sha256) : undefined,
    ...(several ? { referenceSha256s: carried.references.map((reference) => reference.sha256) } : {}),
    ...(numbered ? { variant } : { shot: shot.name }),
    safetySettings: settings.safetySettings,
  };
  return assemblePrompt({ analyzed, shot, content, prompt, imageConfig, carried, settings });
}

/**
 * A prompt as synthesize takes it (a shot's, a sheet's): keyed by the hash of the content its image depends on, with
 * the seed of its character and shot, and the references it carries.
 */
export function assemblePrompt(options: {
  analyzed: AnalyzedImage;
  shot: Shot;
  content: Record<string, unknown>;
  prompt: string;
  imageConfig: GenerationPrompt['imageConfig'];
  carried: { references: PromptReference[]; leftOut: string[] };
  settings: CompileSettings;
}): GenerationPrompt {
  const { analyzed, shot, carried, settings } = options;
  const seed = deriveSeed({ character: identifyCharacter(analyzed), shot, settings });
  return generationPromptSchema.parse({
    key: hashCanonical(options.content),
    sourceImage: { path: analyzed.sourcePath, sha256: analyzed.sha256, mimeType: analyzed.mimeType },
    variant: shot.variant,
    ...(shot.name === undefined ? {} : { shot: shot.name }),
    ...(seed ? { seed } : {}),
    prompt: options.prompt,
    model: settings.model,
    imageConfig: options.imageConfig,
    useReferenceImage: settings.useReferenceImage,
    ...(carried.references.length > 0 ? { references: carried.references } : {}),
    ...(carried.leftOut.length > 0 ? { leftOutReferences: carried.leftOut } : {}),
    ...(settings.safetySettings ? { safetySettings: settings.safetySettings } : {}),
  });
}

/**
 * Named shots whose prompts come out the same (templates of a user's own that never say `{{> shot}}`) would be
 * paid for as different images told apart by their seed only: stopped here, before anything is spent.
 */
function checkShotsInPrompt(options: { prompts: readonly GenerationPrompt[]; templates: PromptTemplates }): void {
  const named = options.prompts.filter((prompt) => prompt.shot !== undefined);
  if (named.length < 2 || new Set(named.map((prompt) => prompt.prompt)).size > 1) return;
  throw options.templates.describeProblem(
    `the shots (${named.map((prompt) => `"${prompt.shot}"`).join(', ')}) all give the same prompt: the templates do not use the shot. Add {{> shot}} to character.hbs (or use {{shot.prompt}}).`,
  );
}
