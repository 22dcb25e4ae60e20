import type { JobRecord } from './job-record.ts';
import { classifyResultLine, type ResultLine } from './classify-result-line.ts';
import { describeLineError, judgeResponse, type LineOutcome } from './line-outcome.ts';
import { settleOutcome, type BatchDependencies, type RunState } from './batch-run-state.ts';
import { downloadedResultPath } from '../store/workspace-layout.ts';

/** Where a job's result file is downloaded to, in the backend's state folder. */
export function resultFilePath(dependencies: Pick<BatchDependencies, 'workspace'>, record: JobRecord): string {
  return downloadedResultPath(dependencies.workspace.directory, record.stage, record.displayName);
}

/**
 * A line without a key whose echoed request is one this job sent (Vertex AI, its key labels lost on the way) is read
 * as that request's line: matched by content, the job's request file read once, at the first such line.
 */
function createEchoRecovery(dependencies: BatchDependencies, record: JobRecord): { recover(line: ResultLine): Promise<ResultLine>; readonly matched: number } {
  let matcher: Promise<(request: unknown) => string | undefined> | undefined;
  let matched = 0;
  return {
    get matched() {
      return matched;
    },
    async recover(line) {
      const open = dependencies.service.openEchoMatcher;
      if (line.kind !== 'unreadable' || line.keyless === undefined || open === undefined) return line;
      const key = (await (matcher ??= open(record)))(line.keyless['request']);
      if (key === undefined) return line;
      matched += 1;
      return classifyResultLine({ root: { ...line.keyless, key }, lineNumber: line.lineNumber });
    },
  };
}

/**
 * Reads a job's result file and settles every line of it: an answer is judged (after the stage's preparation), an
 * error line fails with its reason. Lines of keys the job did not send are counted and ignored; keys the file lacks
 * keep a reason for the next round.
 */
export async function collectResultFile(dependencies: BatchDependencies, record: JobRecord, path: string, state: RunState): Promise<void> {
  const { logger } = dependencies;
  const expected = new Set(record.keys);
  const seen = new Set<string>();
  let unknown = 0;
  const echoes = createEchoRecovery(dependencies, record);
  const read = state.options.readResults ?? dependencies.readResults;
  for await (const readLine of read(path)) {
    const line = await echoes.recover(readLine);
    if (line.kind === 'unreadable') {
      logger.warn(`${state.stage}: ${path} line ${line.lineNumber}: ${line.problem}; skipped`);
      continue;
    }
    if (!expected.has(line.key)) {
      unknown += 1;
      continue;
    }
    if (seen.has(line.key)) continue;
    seen.add(line.key);
    // Answered already (by a straggler's replacement, say): dropped before the stage prepares it, never placed twice.
    if (state.report.outcomes.has(line.key)) {
      state.lateResultsDropped += 1;
      continue;
    }
    const { validate, prepareResponse } = state.options;
    const outcome: LineOutcome =
      line.kind === 'error'
        ? { key: line.key, status: 'failed', ...describeLineError(line.error), error: line.error }
        : await judgeResponse({
            key: line.key,
            response: prepareResponse ? await prepareResponse(line.response) : line.response,
            ...(validate ? { validate } : {}),
          });
    await settleOutcome(outcome, state, logger);
  }
  if (echoes.matched > 0) logger.warn(`${state.stage}: ${path}: ${echoes.matched} lines came back without their key labels; matched by their echoed request`);
  if (unknown > 0) logger.warn(`${state.stage}: ${path}: ${unknown} lines with keys this job did not send; ignored`);
  for (const key of record.keys) {
    if (!seen.has(key)) state.lastReasons.set(key, `missing from the results of ${record.jobName ?? record.displayName}`);
  }
}
