import type { BackendResolution } from './connect-backend.ts';
import { formatCount } from '../lib/format-count.ts';
import { loadJobRecords, type JobRecord } from '../lib/gemini/job-record.ts';
import { countCachedOutcomes } from '../lib/gemini/result-cache.ts';
import { stageNames } from '../stages/stage-step.ts';
import { describeBackend, readRememberedBackends } from '../lib/store/remember-backend.ts';
import { backendStateDirectory } from '../lib/store/workspace-layout.ts';
import { listHeldUploads, readUploadRecords } from '../lib/gemini/upload-registry.ts';

/** One backend's share of a workspace: the answers kept from it and the batch jobs made on it. */
export interface WorkspaceBackend {
  identity: string;
  label: string;
  lastUsedAt?: string;
  /** Final answers kept, by request key (never sent again to this backend). */
  answers: number;
  records: JobRecord[];
  /** Bytes of images this workspace holds on that backend's Files API now (uploaded, not deleted, not expired). */
  uploadedBytes: number;
}

/** Every backend the workspace has answers or jobs of, the one used last first; read from files, nothing asked. */
export async function listWorkspaceBackends(workspaceDirectory: string): Promise<WorkspaceBackend[]> {
  const backends: WorkspaceBackend[] = [];
  for (const remembered of await readRememberedBackends(workspaceDirectory)) {
    const directory = backendStateDirectory(workspaceDirectory, remembered.identity);
    let answers = 0;
    const records: JobRecord[] = [];
    for (const stage of stageNames) {
      answers += await countCachedOutcomes({ stateDirectory: directory, stage });
      records.push(...(await loadJobRecords(directory, stage)));
    }
    const held = listHeldUploads(await readUploadRecords({ stateDirectory: directory }).catch(() => []), Date.now());
    const uploadedBytes = held.reduce((sum, record) => sum + record.sizeBytes, 0);
    backends.push({ identity: remembered.identity, label: describeBackend(remembered), ...(remembered.lastUsedAt ? { lastUsedAt: remembered.lastUsedAt } : {}), answers, records, uploadedBytes });
  }
  return backends;
}

/** Pure: whether a job record still waits on its job (the API's word aside). */
export function isRecordOpen(record: JobRecord): boolean {
  return record.status !== 'finished';
}

/**
 * Pure: for a dry run, the backend the run would use and why, its open jobs, and what other backends hold (kept
 * apart: their answers are never taken for this one's).
 */
export function describeWorkspaceBackends(options: { backends: readonly WorkspaceBackend[]; resolution: BackendResolution }): string[] {
  const { resolution } = options;
  const lines = [`backend: ${resolution.label} (${resolution.reason})`];
  for (const backend of options.backends) {
    const open = backend.records.filter(isRecordOpen).length;
    if (backend.identity === resolution.identity) {
      if (open > 0 && resolution.builtIn) lines.push(`jobs: ${formatCount(open, 'batch job')} of the built-in emulator ended with the run that made ${open === 1 ? 'it' : 'them'}; a run sends ${open === 1 ? 'its' : 'their'} requests again (free)`);
      else if (open > 0) lines.push(`jobs: ${formatCount(open, 'batch job')} still open on ${backend.label}; a run picks ${open === 1 ? 'it' : 'them'} up`);
    } else if (backend.answers > 0 || backend.records.length > 0) {
      lines.push(`also kept: ${formatCount(backend.answers, 'answer')} and ${formatCount(backend.records.length, 'batch job')} of ${backend.label} (another backend; not used by this run)`);
    }
  }
  if (resolution.unavailable) lines.push(`to run from this shell: ${resolution.unavailable}`);
  return lines;
}
