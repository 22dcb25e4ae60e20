import { relative } from 'node:path';
import { z } from 'zod';
import { parseCheckpointItem, readCheckpointStore, writeCheckpointStore, type CheckpointItem, type CheckpointStore } from '../../lib/store/checkpoint-store.ts';
import type { SynthesizeFailure, SynthesizeOutput } from './synthesize-images-options.ts';

const plainFileName = z.string().regex(/^(?!\.{1,2}$)[^/\\\0]+$/, 'a plain file name');

export const synthesisOutputSchema = z
  .object({
    sourcePath: z.string().min(1),
    variant: z.number().int().min(1),
    key: z.string().min(1),
    /** File names in the output folder: plain names, never paths. */
    image: plainFileName,
    sidecar: plainFileName,
  })
  .strict();
export type SynthesisOutput = z.infer<typeof synthesisOutputSchema>;

export const synthesisFailureSchema = z
  .object({ sourcePath: z.string().min(1), variant: z.number().int().min(1), shot: z.string().min(1).optional(), key: z.string(), reason: z.string(), retryable: z.boolean(), fix: z.string() })
  .strict();

/** The synthesize stage's checkpoint, whole: `fingerprint` is '' while a run is writing it. */
export interface SynthesizeCheckpoint {
  /** The prompts' keys, the settings, the output folder, the backend and the code version. */
  fingerprint: string;
  outputs: SynthesisOutput[];
  failures: SynthesizeFailure[];
  warnings: string[];
}

/** What the synthesis checkpoint holds, counted without reading its items. */
export interface SynthesisState {
  fingerprint: string | undefined;
  outputs: number;
  failures: number;
  retryableFailures: number;
}

const fix = 'Run `chargen run --from synthesize` to write it again (images already made are kept).';

/** A chunk's (or a step's) outputs and failures as the checkpoint's items, with the outputs' files named in the output folder. */
export function toSynthesisItems(options: { outputDirectory: string; outputs: readonly SynthesizeOutput[]; failures: readonly SynthesizeFailure[] }): CheckpointItem[] {
  return [
    ...options.failures.map((failure): CheckpointItem => ({ kind: 'failure', sourcePath: failure.sourcePath, variant: failure.variant, retryable: failure.retryable, value: failure })),
    ...options.outputs.map(
      (output): CheckpointItem => ({
        kind: 'output',
        sourcePath: output.sourcePath,
        variant: output.variant,
        value: { sourcePath: output.sourcePath, variant: output.variant, key: output.key, image: relative(options.outputDirectory, output.image), sidecar: relative(options.outputDirectory, output.sidecar) },
      }),
    ),
  ];
}

/** Writes a whole checkpoint whose outputs already name their files in the output folder. */
export async function writeSynthesizeCheckpoint(workspaceDirectory: string, checkpoint: SynthesizeCheckpoint): Promise<void> {
  const items = toSynthesisItems({ outputDirectory: '', outputs: checkpoint.outputs.map((output) => ({ ...output, status: 'written' })), failures: checkpoint.failures });
  writeCheckpointStore(workspaceDirectory, (store) => store.replace('synthesize', { fingerprint: checkpoint.fingerprint, items, warnings: checkpoint.warnings }));
}

export function readSynthesisStateFrom(store: CheckpointStore): SynthesisState | undefined {
  const state = store.readState('synthesize');
  if (!state) return undefined;
  return {
    fingerprint: state.fingerprint,
    outputs: store.count('synthesize', 'output'),
    failures: store.count('synthesize', 'failure'),
    retryableFailures: store.count('synthesize', 'failure', { retryableOnly: true }),
  };
}

export async function readSynthesisState(workspaceDirectory: string): Promise<SynthesisState | undefined> {
  return readCheckpointStore(workspaceDirectory, readSynthesisStateFrom);
}

/** The outputs in order of source path and variant, a page at a time, each checked against its schema. */
export function* readSynthesisOutputPages(store: CheckpointStore): Generator<SynthesisOutput[]> {
  for (const page of store.readPages('synthesize', 'output')) yield page.map((item) => parseCheckpointItem({ path: store.path, stage: 'synthesize', item, schema: synthesisOutputSchema, fix }));
}

export function readSynthesisFailuresFrom(store: CheckpointStore): SynthesizeFailure[] {
  return [...store.readPages('synthesize', 'failure')].flat().map((item) => parseCheckpointItem({ path: store.path, stage: 'synthesize', item, schema: synthesisFailureSchema, fix }));
}

/** The whole checkpoint in memory, for what needs it whole (the UI, a contact sheet); a run streams it instead. */
export async function readSynthesizeCheckpoint(workspaceDirectory: string): Promise<SynthesizeCheckpoint | undefined> {
  return readCheckpointStore(workspaceDirectory, (store) => {
    const state = store.readState('synthesize');
    if (!state) return undefined;
    return { fingerprint: state.fingerprint ?? '', outputs: [...readSynthesisOutputPages(store)].flat(), failures: readSynthesisFailuresFrom(store), warnings: store.readWarnings('synthesize') };
  });
}
