import { saveJobRecord, type JobRecord } from './job-record.ts';
import type { RequestLine } from './line-outcome.ts';
import { fingerprintChunk, formatDisplayName, planChunks } from './plan-chunks.ts';
import { writeRequestFile } from './write-request-file.ts';
import type { BatchDependencies, RunState } from './batch-run-state.ts';
import { requestFileRelativePath } from '../store/workspace-layout.ts';
import { join } from 'node:path';

/**
 * Writes one chunk's request file and its job record (numbered by the attempts of the same chunk before it). The
 * record is persisted before the job exists: a crash after `create` leaves a record to look the job up by.
 */
export async function prepareChunk(dependencies: BatchDependencies, options: { lines: RequestLine[]; state: RunState; replaces?: string }): Promise<JobRecord> {
  const { workspace, environment } = dependencies;
  const keys = options.lines.map((line) => line.key);
  const fingerprint = fingerprintChunk({ model: options.state.model, keys });
  const attempt = options.state.jobs.countAttempts(fingerprint) + 1;
  const displayName = formatDisplayName({ workspaceId: workspace.id, stage: options.state.stage, fingerprint, attempt });
  const requestFile = requestFileRelativePath(options.state.stage, displayName);
  await writeRequestFile({ path: join(workspace.directory, requestFile), lines: options.lines, formatLine: dependencies.service.formatRequestLine });
  const record: JobRecord = {
    version: 1,
    displayName,
    stage: options.state.stage,
    model: options.state.model,
    fingerprint,
    attempt,
    keys,
    requestFile,
    status: 'preparing',
    createdAt: new Date(environment.now()).toISOString(),
    // In the first write: a rerun finds a straggler's replacement by it, and never makes a second one.
    ...(options.replaces !== undefined ? { replaces: options.replaces } : {}),
  };
  await saveJobRecord(workspace.directory, record);
  options.state.jobs.add(record);
  return record;
}

/**
 * One round's work: in the first, the unfinished jobs of earlier runs (resumed, their keys not sent again); then the
 * lines still to do, not held in a job and not waiting for a new upload, in chunks within the line and byte limits.
 */
export async function planRound(dependencies: BatchDependencies, options: { state: RunState; round: number; unfinished: readonly JobRecord[] }): Promise<{ work: { record: JobRecord; resumed: boolean }[]; todo: number }> {
  const { state, round } = options;
  const { settings } = dependencies;
  const resumedKeys = new Set(round === 1 ? options.unfinished.flatMap((record) => record.keys) : []);
  const todo = [...state.wanted.values()].filter(
    (line) => !state.report.outcomes.has(line.key) && !resumedKeys.has(line.key) && !state.heldKeys.has(line.key) && !state.missingFileKeys.has(line.key),
  );
  if (todo.length === 0 && resumedKeys.size === 0) return { work: [], todo: 0 };
  const fresh: JobRecord[] = [];
  // A request file fits the budget's part for request files (when the budget is that small), so none passes it.
  const maxBytes = Math.min(settings.chunkMaxBytes, dependencies.storage?.requestFileBytes ?? Number.POSITIVE_INFINITY);
  for (const chunk of planChunks({ lines: todo, maxLines: settings.chunkMaxLines, maxBytes })) {
    fresh.push(await prepareChunk(dependencies, { lines: chunk, state }));
  }
  const work = [...(round === 1 ? options.unfinished.map((record) => ({ record, resumed: true })) : []), ...fresh.map((record) => ({ record, resumed: false }))];
  return { work, todo: todo.length };
}
