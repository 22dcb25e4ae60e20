import { z } from 'zod';
import { hashCanonical } from '../../lib/canonical-json.ts';
import { CheckpointError, UsageError } from '../../lib/errors.ts';
import { readCheckpointStore } from '../../lib/store/checkpoint-store.ts';
import { analysisRecordSchema, type AnalysisRecord } from '../../schemas/analysis.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { aspectRatios, generationPromptSchema, type GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { listShots, maxSeed } from '../../schemas/shot-settings.ts';
import { readAnalyzedImagePages } from '../../stages/analyze/analysis-checkpoint.ts';
import { readPromptPages } from '../../stages/compile/prompts-checkpoint.ts';
import { readPromptTemplates } from '../../stages/compile/compile-step.ts';
import { compilePrompts } from '../../stages/compile/core/compile-prompts.ts';
import { attachSheet } from '../../stages/compile/core/compile-sheets.ts';
import { computeImageRequestKey } from '../../stages/synthesize/core/build-image-request.ts';
import { formatEntryId, toOutputEntry } from '../../stages/synthesize/core/plan-output-names.ts';

/** What the artist may change of an image before asking it again; every field optional (none: the same request again). */
export const regenerateEditsSchema = z
  .object({
    /** The prompt's text, as sent. */
    prompt: z.string().trim().min(1, 'an empty prompt').max(8_000).optional(),
    /** Fields of the character's record: the prompt is compiled again from the templates with them. */
    record: z.record(z.string(), z.unknown()).optional(),
    /** Another shot of compile.variants, by name: its line in the prompt and its frame. */
    shot: z.string().min(1).optional(),
    seed: z.number().int().min(0).max(maxSeed).optional(),
    aspectRatio: z.enum(aspectRatios).optional(),
  })
  .strict();
export type RegenerateEdits = z.infer<typeof regenerateEditsSchema>;

export interface ComposedRequest {
  entry: string;
  prompt: GenerationPrompt;
  requestKey: string;
  changes: string[];
}

function findCompiledPrompt(workspaceDirectory: string, source: string, variant: number): GenerationPrompt {
  const found = readCheckpointStore(workspaceDirectory, (store) => {
    for (const page of readPromptPages(store)) {
      const prompt = page.find((candidate) => candidate.sourceImage.path === source && candidate.variant === variant);
      if (prompt) return prompt;
    }
    return undefined;
  });
  if (!found) throw new UsageError({ message: `source: no compiled prompt for ${source}${variant > 1 ? ` (variant ${variant})` : ''}; run \`chargen run\` first, or pick an image of the gallery.` });
  return found;
}

/** The record with the artist's fields, checked field by field against the record's schema. */
function editRecord(record: AnalysisRecord, edits: Record<string, unknown>): AnalysisRecord {
  const edited = analysisRecordSchema.safeParse({ ...record, ...edits });
  if (edited.success) return edited.data;
  const issue = edited.error.issues[0];
  throw new UsageError({ message: `record.${issue?.path.join('.') || '?'}: ${issue?.message ?? 'not a valid value'}` });
}

function findAnalyzed(workspaceDirectory: string, source: string) {
  const found = readCheckpointStore(workspaceDirectory, (store) => {
    for (const page of readAnalyzedImagePages(store)) {
      const analyzed = page.find((candidate) => candidate.sourcePath === source);
      if (analyzed) return analyzed;
    }
    return undefined;
  });
  if (!found) throw new CheckpointError({ message: `There is no analysis record of ${source}: run \`chargen run\` first.` });
  return found;
}

/**
 * The prompt compiled again from the character's record (with the artist's fields) for the entry's shot or another,
 * as compile would; it keeps the entry's place (its variant and shot name), so its image is a version of this entry,
 * and the turnaround sheet the entry carried.
 */
async function recompile(options: { cwd: string; workspaceDirectory: string; config: ChargenConfig; base: GenerationPrompt; edits: RegenerateEdits }): Promise<GenerationPrompt> {
  const { config, base, edits } = options;
  const analyzed = findAnalyzed(options.workspaceDirectory, base.sourceImage.path);
  const record = edits.record ? editRecord(analyzed.record, edits.record) : analyzed.record;
  const shots = listShots(config.compile.variants);
  const shot = edits.shot === undefined ? shots.find((candidate) => candidate.variant === base.variant) : shots.find((candidate) => candidate.name === edits.shot);
  if (!shot) throw new UsageError({ message: `shot: ${JSON.stringify(edits.shot)} is not one of compile.variants (${shots.map((candidate) => candidate.name ?? `variant ${candidate.variant}`).join(', ')})` });
  const templates = await readPromptTemplates({ cwd: options.cwd, templateDirectory: config.compile.templateDirectory, variants: config.compile.variants });
  const compiled = compilePrompts({ records: [{ ...analyzed, record }], templates, settings: config.compile }).find((prompt) => prompt.variant === shot.variant) as GenerationPrompt;
  const { shot: _shot, ...rest } = compiled;
  const placed = generationPromptSchema.parse({ ...rest, variant: base.variant, ...(base.shot !== undefined ? { shot: base.shot } : {}) });
  const sheet = base.references?.[0];
  return sheet?.folder === 'output' ? attachSheet(placed, sheet) : placed;
}

/**
 * The request an image is asked again with: its compiled prompt, compiled again when the artist changed the record or
 * the shot, then the artist's text, seed and frame. A seed the artist gives is sent as a chosen one (`config`).
 */
export async function composeRegenerateRequest(options: { cwd: string; workspaceDirectory: string; config: ChargenConfig; source: string; variant: number; edits: RegenerateEdits }): Promise<ComposedRequest> {
  const { edits, config } = options;
  const base = findCompiledPrompt(options.workspaceDirectory, options.source, options.variant);
  const changes: string[] = [];
  let prompt = base;
  if (edits.record !== undefined || edits.shot !== undefined) {
    prompt = await recompile({ cwd: options.cwd, workspaceDirectory: options.workspaceDirectory, config, base, edits });
    if (edits.record) changes.push(...Object.keys(edits.record).map((field) => `record: ${field}`));
    if (edits.shot !== undefined) changes.push(`shot: ${edits.shot}`);
  }
  if (edits.prompt !== undefined && edits.prompt !== prompt.prompt) {
    prompt = { ...prompt, prompt: edits.prompt };
    changes.push('prompt edited');
  }
  if (edits.seed !== undefined && edits.seed !== prompt.seed?.value) {
    prompt = { ...prompt, seed: { value: edits.seed, source: 'config' } };
    changes.push(`seed ${edits.seed}`);
  }
  if (edits.aspectRatio !== undefined && edits.aspectRatio !== prompt.imageConfig.aspectRatio) {
    prompt = { ...prompt, imageConfig: { ...prompt.imageConfig, aspectRatio: edits.aspectRatio } };
    changes.push(`aspect ratio ${edits.aspectRatio}`);
  }
  if (prompt !== base) prompt = generationPromptSchema.parse({ ...prompt, key: hashCanonical({ kind: 'regenerate', base: base.key, prompt: prompt.prompt, imageConfig: prompt.imageConfig, references: prompt.references?.map((reference) => reference.sha256) ?? [] }) });
  if (changes.length === 0) changes.push('same request again');
  return { entry: formatEntryId(toOutputEntry(prompt)), prompt, requestKey: computeImageRequestKey({ prompt, settings: config.synthesize }), changes };
}
