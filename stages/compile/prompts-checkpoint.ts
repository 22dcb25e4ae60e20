import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../../lib/store/atomic-file.ts';
import { generationPromptSchema, type GenerationPrompt } from '../../schemas/generation-prompt.ts';
import type { AnalyzedImage } from '../analyze/analysis-result.ts';
import { hashCanonical } from '../../lib/canonical-json.ts';
import { compareText } from '../../lib/compare-text.ts';
import type { CompileSettings } from '../../schemas/compile-settings.ts';
import { promptsCheckpointPath } from '../../lib/store/workspace-layout.ts';

export const promptsCheckpointSchema = z
  .object({
    kind: z.literal('chargen-prompts'),
    version: z.literal(1),
    /** What the prompts were made from: the records, the templates and the settings. */
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    prompts: z.array(generationPromptSchema),
  })
  .strict();
export type PromptsCheckpoint = z.infer<typeof promptsCheckpointSchema>;

/** Changes exactly when the prompts could: a record, a template or a setting (not the records' order). */
export function fingerprintCompile(options: { records: readonly AnalyzedImage[]; templatesFingerprint: string; settings: CompileSettings }): string {
  const records = options.records
    .map((entry) => ({ sourcePath: entry.sourcePath, sha256: entry.sha256, mimeType: entry.mimeType, record: entry.record }))
    .sort((left, right) => compareText(left.sourcePath, right.sourcePath));
  return hashCanonical({ records, templates: options.templatesFingerprint, settings: options.settings, format: 1 });
}

export { promptsCheckpointPath };

export async function writePromptsCheckpoint(workspaceDirectory: string, checkpoint: { fingerprint: string; prompts: GenerationPrompt[] }): Promise<void> {
  await writeJsonAtomic(promptsCheckpointPath(workspaceDirectory), promptsCheckpointSchema.parse({ kind: 'chargen-prompts', version: 1, ...checkpoint }));
}

export async function readPromptsCheckpoint(workspaceDirectory: string): Promise<PromptsCheckpoint | undefined> {
  return readJsonFile(promptsCheckpointPath(workspaceDirectory), promptsCheckpointSchema, 'Run `chargen run --only compile` to write it again (it costs nothing).');
}
