import { notFound } from '../api-error.ts';
import { rm } from 'node:fs/promises';
import { computeCancelTime, stateOf, terminalStates, type BatchJob } from '../batch-store.ts';
import { versionPattern, type EmulatorContext, type Route } from '../emulator-context.ts';
import { HttpRejection, sendJson } from '../http-io.ts';
import { toOperation } from './operation.ts';
import { pageOf } from './paging.ts';

async function discardUnpublishedOutput(job: BatchJob): Promise<void> {
  if (job.outputTemporaryPath === undefined) return;
  await rm(job.outputTemporaryPath, { force: true });
  delete job.outputTemporaryPath;
}

function requireJob(context: EmulatorContext, id: string | undefined): BatchJob {
  const job = id === undefined ? undefined : context.batches.find(id);
  if (!job) throw new HttpRejection(notFound());
  return job;
}

export const batchRoutes: Route[] = [
  {
    method: 'GET',
    pattern: new RegExp(`^/${versionPattern}/batches/(?<id>[^/:]+)$`),
    endpoint: 'batches.get',
    requiresKey: true,
    handle: async (context, input) => {
      const job = requireJob(context, input.parameters['id']);
      sendJson(input.response, 200, toOperation(job, { context }));
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/${versionPattern}/batches$`),
    endpoint: 'batches.list',
    requiresKey: true,
    handle: async (context, input) => {
      if (context.options.quirks.emptyListWithoutPageSize && !input.url.searchParams.has('pageSize')) {
        sendJson(input.response, 200, {});
        return;
      }
      const page = pageOf({ items: context.batches.list(), url: input.url, defaultPageSize: 50, maxPageSize: 1000 });
      sendJson(input.response, 200, {
        ...(page.items.length > 0
          ? { operations: page.items.map((job) => toOperation(job, { context, includeInlinedResponses: false })) }
          : {}),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      });
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/${versionPattern}/batches/(?<id>[^/:]+):cancel$`),
    endpoint: 'batches.cancel',
    requiresKey: true,
    handle: async (context, input) => {
      input.request.resume();
      const job = requireJob(context, input.parameters['id']);
      // Asynchronous and best effort, as the REST reference describes cancel: the job reads as before until the
      // cancel latency has passed; a job already final, or final before the cancel would land, stays as it is.
      const timing = { now: context.clock.now(), timings: context.timings() };
      const cancelTime = job.cancelTime === undefined && !terminalStates.has(stateOf(job, timing)) ? computeCancelTime(job, timing) : undefined;
      if (cancelTime === undefined) {
        sendJson(input.response, 200, {});
        return;
      }
      job.cancelTime = cancelTime;
      await discardUnpublishedOutput(job);
      context.stats.batchesCancelled += 1;
      sendJson(input.response, 200, {});
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/${versionPattern}/batches/(?<id>[^/:]+)$`),
    endpoint: 'batches.delete',
    requiresKey: true,
    handle: async (context, input) => {
      input.request.resume();
      // Deleting forgets the job; it does not cancel it (the REST reference says so), so its lines still run.
      const job = requireJob(context, input.parameters['id']);
      context.batches.remove(job.id);
      context.stats.batchesDeleted += 1;
      sendJson(input.response, 200, {});
    },
  },
];
