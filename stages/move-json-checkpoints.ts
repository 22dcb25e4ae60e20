import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from '../lib/store/atomic-file.ts';
import { openCheckpointStore } from '../lib/store/checkpoint-store.ts';
import { WorkspaceFileError } from '../lib/errors.ts';
import { analysisCheckpointPath, promptsCheckpointPath, singleOutputNamesPath, synthesizeCheckpointPath } from '../lib/store/workspace-layout.ts';
import { generationPromptSchema } from '../schemas/generation-prompt.ts';
import { analysisCheckpointSchema } from './analyze/analysis-result.ts';
import { toAnalysisItems } from './analyze/analysis-checkpoint.ts';
import { toPromptItems } from './compile/prompts-checkpoint.ts';
import { synthesisFailureSchema, synthesisOutputSchema } from './synthesize/synthesize-checkpoint.ts';
import type { CheckpointItem } from '../lib/store/checkpoint-store.ts';

// The JSON files an older chargen wrote, as it wrote them.
const promptsFileSchema = z.object({ kind: z.literal('chargen-prompts'), version: z.literal(1), fingerprint: z.string(), prompts: z.array(generationPromptSchema) }).strict();
const outputsFileSchema = z
  .object({ kind: z.literal('chargen-synthesis'), version: z.literal(1), fingerprint: z.string(), outputs: z.array(synthesisOutputSchema), failures: z.array(synthesisFailureSchema), warnings: z.array(z.string()) })
  .strict();
const namesFileSchema = z
  .object({ kind: z.literal('chargen-output-names'), version: z.literal(1), outputDirectory: z.string().min(1), names: z.record(z.string(), z.string().regex(/^[^/\\\0]+$/)) })
  .strict();

const fix = 'not moved';

/** A file of an older chargen, or undefined when it is not there; a damaged one is said and dropped (its stage is made again, free). */
async function readOld<T>(path: string, schema: z.ZodType<T>, onDamaged: (message: string) => void): Promise<T | undefined> {
  try {
    return await readJsonFile(path, schema, fix);
  } catch (error) {
    if (!(error instanceof WorkspaceFileError)) throw error;
    onDamaged(`${path} ${error.problem}; it is not moved, and its stage is made again from the answers already paid for`);
    return undefined;
  }
}

/**
 * The JSON checkpoints and output names of an older chargen (analyze/analysis.json, compile/prompts.json,
 * synthesize/outputs.json, synthesize/names*.json) moved into checkpoints.sqlite once, fingerprints and all (so a
 * stage current before is current after), then removed. Answers already paid for are in the backends' databases and
 * untouched. Returns the number of files moved.
 */
export async function moveJsonCheckpoints(options: { workspaceDirectory: string; now: () => number; onDamaged: (message: string) => void }): Promise<number> {
  const { workspaceDirectory, onDamaged } = options;
  const namesDirectory = join(workspaceDirectory, 'synthesize', 'names');
  // The single file of before names were kept per folder first, so a folder's own file wins.
  const namePaths = [singleOutputNamesPath(workspaceDirectory), ...(await readdir(namesDirectory).catch(() => [] as string[])).filter((name) => name.endsWith('.json')).map((name) => join(namesDirectory, name))];
  const checkpointPaths = [analysisCheckpointPath(workspaceDirectory), promptsCheckpointPath(workspaceDirectory), synthesizeCheckpointPath(workspaceDirectory)];
  const present = await Promise.all([...checkpointPaths, ...namePaths].map((path) => stat(path).then(() => path, () => undefined)));
  const found = present.filter((path): path is string => path !== undefined);
  if (found.length === 0) return 0;
  const [analysisPath, promptsPath, outputsPath] = checkpointPaths as [string, string, string];
  const analysis = await readOld(analysisPath, analysisCheckpointSchema, onDamaged);
  const prompts = await readOld(promptsPath, promptsFileSchema, onDamaged);
  const outputs = await readOld(outputsPath, outputsFileSchema, onDamaged);
  const names = [];
  for (const path of namePaths) {
    const file = await readOld(path, namesFileSchema, onDamaged);
    if (file) names.push(file);
  }
  const store = openCheckpointStore({ workspaceDirectory, now: options.now });
  try {
    // Items and fingerprints go in as the files had them; the files are removed only once all of it is committed.
    if (analysis) store.replace('analyze', { fingerprint: analysis.fingerprint, items: toAnalysisItems(analysis), warnings: analysis.warnings });
    if (prompts) store.replace('compile', { fingerprint: prompts.fingerprint, items: toPromptItems(prompts.prompts), warnings: [] });
    if (outputs) {
      const items = [
        ...outputs.failures.map((failure): CheckpointItem => ({ kind: 'failure', sourcePath: failure.sourcePath, variant: failure.variant, retryable: failure.retryable, value: failure })),
        ...outputs.outputs.map((output): CheckpointItem => ({ kind: 'output', sourcePath: output.sourcePath, variant: output.variant, value: output })),
      ];
      store.replace('synthesize', { fingerprint: outputs.fingerprint, items, warnings: outputs.warnings });
    }
    for (const file of names) store.replaceNames(file.outputDirectory, new Map(Object.entries(file.names)));
  } finally {
    store.close();
  }
  for (const path of found) await rm(path, { force: true });
  return found.length;
}
