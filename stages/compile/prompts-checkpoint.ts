import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../../lib/store/atomic-file.ts';
import { generationPromptSchema, type GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { fingerprintCompile } from './core/fingerprint-compile.ts';
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

export { fingerprintCompile };

export { promptsCheckpointPath };

export async function writePromptsCheckpoint(workspaceDirectory: string, checkpoint: { fingerprint: string; prompts: GenerationPrompt[] }): Promise<void> {
  await writeJsonAtomic(promptsCheckpointPath(workspaceDirectory), promptsCheckpointSchema.parse({ kind: 'chargen-prompts', version: 1, ...checkpoint }));
}

export async function readPromptsCheckpoint(workspaceDirectory: string): Promise<PromptsCheckpoint | undefined> {
  return readJsonFile(promptsCheckpointPath(workspaceDirectory), promptsCheckpointSchema, 'Run `chargen run --only compile` to write it again (it costs nothing).');
}
