import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListedJob } from '../../test/support/emulator-admin.ts';

/** What the jobs of one run show: how many, and whether any line was in two jobs alive at the same time. */
export interface JobAudit {
  jobsCreated: number;
  /** Lines in two live jobs at once (from the workspace's job records and the emulator's job times). */
  linesInTwoLiveJobs: number;
  /** Where the lines came from: job records found in the workspace, or (without them) chunks by displayName. */
  source: 'job records' | 'displayName';
  /** Distinct keys the synthesize job records hold (undefined without records): what a run asked images for. */
  imageKeys: number | undefined;
}

async function readJobKeys(workspaceDirectory: string): Promise<Map<string, string[]>> {
  const keysByName = new Map<string, string[]>();
  const entries = await readdir(workspaceDirectory, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith('.json') || !/[/\\]jobs[/\\]/.test(join(entry.parentPath, entry.name))) continue;
    try {
      const record = JSON.parse(await readFile(join(entry.parentPath, entry.name), 'utf8')) as { displayName?: unknown; keys?: unknown };
      if (typeof record.displayName === 'string' && Array.isArray(record.keys)) keysByName.set(record.displayName, record.keys.filter((key): key is string => typeof key === 'string'));
    } catch {
      // A record torn by the stop: its job is audited by displayName alone.
    }
  }
  return keysByName;
}

function isAliveTogether(left: ListedJob, right: ListedJob, now: number): boolean {
  const start = (job: ListedJob) => Date.parse(job.createTime);
  const end = (job: ListedJob) => (job.endTime ? Date.parse(job.endTime) : now);
  return start(left) < end(right) && start(right) < end(left);
}

/**
 * Jobs of the workspace (by its displayName prefix) as the emulator lists them, and each line that two of them held
 * while both were alive (created, not yet ended). Without job records in the workspace, a chunk (displayName without
 * its attempt) with two live jobs counts as all its lines, unknown here: 1 per such pair.
 */
export async function auditFlowJobs(options: { jobs: readonly ListedJob[]; workspaceDirectory: string; now: number }): Promise<JobAudit> {
  const keysByName = await readJobKeys(options.workspaceDirectory);
  const jobs = options.jobs.filter((job) => job.displayName.startsWith('chargen-'));
  const doubled = new Set<string>();
  let unknownPairs = 0;
  for (const [index, left] of jobs.entries()) {
    for (const right of jobs.slice(index + 1)) {
      if (!isAliveTogether(left, right, options.now)) continue;
      const leftKeys = keysByName.get(left.displayName);
      const rightKeys = keysByName.get(right.displayName);
      if (leftKeys && rightKeys) {
        const inLeft = new Set(leftKeys);
        for (const key of rightKeys) if (inLeft.has(key)) doubled.add(key);
      } else if (left.displayName.replace(/-\d+$/, '') === right.displayName.replace(/-\d+$/, '')) {
        unknownPairs += 1;
      }
    }
  }
  const imageKeys = new Set([...keysByName].filter(([name]) => name.includes('-synthesize-')).flatMap(([, keys]) => keys));
  return {
    jobsCreated: jobs.length,
    linesInTwoLiveJobs: doubled.size + unknownPairs,
    source: keysByName.size > 0 ? 'job records' : 'displayName',
    imageKeys: keysByName.size > 0 ? imageKeys.size : undefined,
  };
}
