import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../../lib/store/atomic-file.ts';
import { synthesizeCheckpointPath } from '../../lib/store/workspace-layout.ts';

export const synthesizeCheckpointSchema = z
  .object({
    kind: z.literal('chargen-synthesis'),
    version: z.literal(1),
    /** The prompts' keys, the settings, the output folder, the backend and the code version. */
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    outputs: z.array(
      z
        .object({
          sourcePath: z.string().min(1),
          variant: z.number().int().min(1),
          key: z.string().min(1),
          /** File names in the output folder: plain names, never paths. */
          image: z.string().regex(/^(?!\.{1,2}$)[^/\\\0]+$/, 'a plain file name'),
          sidecar: z.string().regex(/^(?!\.{1,2}$)[^/\\\0]+$/, 'a plain file name'),
        })
        .strict(),
    ),
    failures: z.array(
      z
        .object({ sourcePath: z.string().min(1), variant: z.number().int().min(1), key: z.string(), reason: z.string(), retryable: z.boolean(), fix: z.string() })
        .strict(),
    ),
    warnings: z.array(z.string()),
  })
  .strict();
export type SynthesizeCheckpoint = z.infer<typeof synthesizeCheckpointSchema>;

export { synthesizeCheckpointPath };

export async function writeSynthesizeCheckpoint(workspaceDirectory: string, checkpoint: Omit<SynthesizeCheckpoint, 'kind' | 'version'>): Promise<void> {
  await writeJsonAtomic(synthesizeCheckpointPath(workspaceDirectory), synthesizeCheckpointSchema.parse({ kind: 'chargen-synthesis', version: 1, ...checkpoint }));
}

export async function readSynthesizeCheckpoint(workspaceDirectory: string): Promise<SynthesizeCheckpoint | undefined> {
  return readJsonFile(synthesizeCheckpointPath(workspaceDirectory), synthesizeCheckpointSchema, 'Run `chargen run --from synthesize` to write it again (images already made are kept).');
}
