import { readJsonFile, writeJsonAtomic } from '../../lib/store/atomic-file.ts';
import { analysisCheckpointSchema, type AnalysisCheckpoint } from './analysis-result.ts';
import { analysisCheckpointPath } from '../../lib/store/workspace-layout.ts';

export { analysisCheckpointPath };

export async function writeAnalysisCheckpoint(workspaceDirectory: string, result: Omit<AnalysisCheckpoint, 'kind' | 'version'>): Promise<void> {
  const checkpoint: AnalysisCheckpoint = { kind: 'chargen-analysis', version: 1, ...result };
  await writeJsonAtomic(analysisCheckpointPath(workspaceDirectory), analysisCheckpointSchema.parse(checkpoint));
}

export async function readAnalysisCheckpoint(workspaceDirectory: string): Promise<AnalysisCheckpoint | undefined> {
  return readJsonFile(analysisCheckpointPath(workspaceDirectory), analysisCheckpointSchema, 'Run `chargen run --from analyze` to write it again (answers already paid for are reused).');
}
