import type { BatchJob, BatchSource, BatchStore } from './batch-store.ts';
import type { EmulatorContext } from './emulator-context.ts';

/**
 * A new batch job, of the Gemini API (`batches`) or of Vertex AI (`batchPredictionJobs`): its fault outcome drawn by
 * display name, nothing processed or published yet, added to its store and counted, and the clock's next move asked
 * for when it leaves PENDING.
 */
export function startBatchJob(context: EmulatorContext, options: { store: BatchStore; id: string; model: string; displayName?: string; source: BatchSource; requestCount: number }): BatchJob {
  const { displayName } = options;
  const outcome = context.faults.takeJobOutcome(displayName ?? '');
  const job: BatchJob = {
    id: options.id,
    model: options.model,
    ...(displayName !== undefined ? { displayName } : {}),
    source: options.source,
    createTime: context.clock.now(),
    requestCount: options.requestCount,
    ...(outcome !== undefined ? { outcome } : {}),
    processed: false,
    published: false,
    successfulCount: 0,
    failedCount: 0,
  };
  options.store.add(job);
  context.stats.batchesCreated += 1;
  context.scheduleAdvance(context.timings().pendingMilliseconds);
  return job;
}
