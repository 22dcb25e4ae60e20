import { parseCheckpointItem, readCheckpointStore, writeCheckpointStore, type CheckpointItem, type CheckpointStore } from '../../lib/store/checkpoint-store.ts';
import { analyzedImageSchema, analyzeFailureSchema, type AnalysisCheckpoint, type AnalyzedImage, type AnalyzeFailure } from './analysis-result.ts';

const fix = 'Run `chargen run --from analyze` to write it again (answers already paid for are reused).';

/** What the analysis checkpoint holds, counted without reading its items. */
export interface AnalysisState {
  /** Undefined while a run is writing it. */
  fingerprint: string | undefined;
  records: number;
  failures: number;
  retryableFailures: number;
}

/** Records and failures as the checkpoint's items: one per source path. */
export function toAnalysisItems(options: { records: readonly AnalyzedImage[]; failures: readonly AnalyzeFailure[] }): CheckpointItem[] {
  return [
    ...options.failures.map((failure): CheckpointItem => ({ kind: 'failure', sourcePath: failure.sourcePath, variant: 0, retryable: failure.retryable === true, value: failure })),
    ...options.records.map((record): CheckpointItem => ({ kind: 'record', sourcePath: record.sourcePath, variant: 0, value: record })),
  ];
}

export async function writeAnalysisCheckpoint(workspaceDirectory: string, result: Omit<AnalysisCheckpoint, 'kind' | 'version'>): Promise<void> {
  writeCheckpointStore(workspaceDirectory, (store) => store.replace('analyze', { fingerprint: result.fingerprint, items: toAnalysisItems(result), warnings: result.warnings }));
}

export function readAnalysisStateFrom(store: CheckpointStore): AnalysisState | undefined {
  const state = store.readState('analyze');
  if (!state) return undefined;
  return {
    fingerprint: state.fingerprint,
    records: store.count('analyze', 'record'),
    failures: store.count('analyze', 'failure'),
    retryableFailures: store.count('analyze', 'failure', { retryableOnly: true }),
  };
}

export async function readAnalysisState(workspaceDirectory: string): Promise<AnalysisState | undefined> {
  return readCheckpointStore(workspaceDirectory, readAnalysisStateFrom);
}

/** The records in order of their source paths, a page at a time, each checked against its schema. */
export function* readAnalyzedImagePages(store: CheckpointStore): Generator<AnalyzedImage[]> {
  for (const page of store.readPages('analyze', 'record')) yield page.map((item) => parseCheckpointItem({ path: store.path, stage: 'analyze', item, schema: analyzedImageSchema, fix }));
}

export function readAnalyzeFailuresFrom(store: CheckpointStore): AnalyzeFailure[] {
  return [...store.readPages('analyze', 'failure')].flat().map((item) => parseCheckpointItem({ path: store.path, stage: 'analyze', item, schema: analyzeFailureSchema, fix }));
}

/**
 * The whole checkpoint in memory, for what needs it whole (a contact sheet's formats, tests); a run streams the
 * records instead (readAnalyzedImagePages). Undefined when there is none.
 */
export async function readAnalysisCheckpoint(workspaceDirectory: string): Promise<AnalysisCheckpoint | undefined> {
  return readCheckpointStore(workspaceDirectory, (store) => {
    const state = store.readState('analyze');
    if (!state) return undefined;
    return {
      kind: 'chargen-analysis',
      version: 1,
      ...(state.fingerprint !== undefined ? { fingerprint: state.fingerprint } : {}),
      records: [...readAnalyzedImagePages(store)].flat(),
      failures: readAnalyzeFailuresFrom(store),
      warnings: store.readWarnings('analyze'),
    } satisfies AnalysisCheckpoint;
  });
}
