import { formatTimestamp } from '../clock.ts';
import { finishTimeOf, stateOf, terminalStates, type BatchJob } from '../batch-store.ts';
import type { EmulatorContext } from '../emulator-context.ts';

const batchType = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch';
const outputType = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput';

/** int64 counters as strings, zeros left out, as proto3 JSON writes them. */
function counters(entries: Record<string, number>): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).filter(([, count]) => count > 0).map(([name, count]) => [name, String(count)]));
}

/**
 * A batch job as the long-running Operation the real API returns: everything the SDK reads is under `metadata`
 * (it maps `metadata.output` to `dest`); `done`, `response` and `error` follow the LRO convention.
 */
export function toOperation(job: BatchJob, options: { context: EmulatorContext; includeInlinedResponses?: boolean }): Record<string, unknown> {
  const { context } = options;
  const timings = context.timings();
  const now = context.clock.now();
  const state = stateOf(job, { now, timings });
  const done = terminalStates.has(state);
  const endTime = job.cancelTime ?? finishTimeOf(job, timings);
  const name = `batches/${job.id}`;

  const stats =
    state === 'BATCH_STATE_SUCCEEDED'
      ? counters({ requestCount: job.requestCount, successfulRequestCount: job.successfulCount, failedRequestCount: job.failedCount })
      : done
        ? counters({ requestCount: job.requestCount })
        : counters({ requestCount: job.requestCount, pendingRequestCount: job.requestCount });

  let output: Record<string, unknown> | undefined;
  if (state === 'BATCH_STATE_SUCCEEDED') {
    if (job.outputFileId !== undefined) output = { responsesFile: `files/${job.outputFileId}` };
    else if (job.inlinedResponses && options.includeInlinedResponses !== false) {
      output = { inlinedResponses: { inlinedResponses: job.inlinedResponses } };
    }
  }

  const metadata: Record<string, unknown> = {
    '@type': batchType,
    model: `models/${job.model}`,
    ...(job.displayName !== undefined ? { displayName: job.displayName } : {}),
    ...(job.source.kind === 'file' ? { inputConfig: { fileName: `files/${job.source.fileId}` } } : {}),
    ...(output ? { output } : {}),
    createTime: formatTimestamp(job.createTime),
    ...(done ? { endTime: formatTimestamp(endTime) } : {}),
    updateTime: formatTimestamp(done ? endTime : now),
    batchStats: stats,
    state,
    name,
  };

  const error =
    state === 'BATCH_STATE_FAILED'
      ? { code: 13, message: job.processingError !== undefined ? 'An internal error occurred while running the batch.' : 'The batch job failed.' }
      : state === 'BATCH_STATE_CANCELLED'
        ? { code: 1, message: 'The batch job was cancelled.' }
        : state === 'BATCH_STATE_EXPIRED'
          ? { code: 4, message: 'The batch job expired: it was pending or running for more than 48 hours.' }
          : undefined;

  return {
    name,
    metadata,
    ...(done ? { done: true } : {}),
    ...(output ? { response: { '@type': outputType, ...output } } : {}),
    ...(error ? { error } : {}),
  };
}
