import { notFound } from '../api-error.ts';
import { isClockDue, stateOf, terminalStates, type BatchJob } from '../batch-store.ts';
import type { EmulatorContext, Route } from '../emulator-context.ts';
import { HttpRejection, sendJson } from '../http-io.ts';
import { toOperation } from './operation.ts';
import { pageOf } from './paging.ts';

const versionPattern = '(v1|v1beta)';

/** A job whose time is up waits for its lines to be written, so that a poll never sees a half-written output. */
async function settle(context: EmulatorContext, job: BatchJob): Promise<void> {
  if (job.processing && isClockDue(job, { now: context.clock.now(), timings: context.timings() })) await job.processing;
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
      await settle(context, job);
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
      await Promise.all(page.items.map((job) => settle(context, job)));
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
      await settle(context, job);
      const state = stateOf(job, { now: context.clock.now(), timings: context.timings() });
      if (terminalStates.has(state)) {
        throw new HttpRejection({
          httpStatus: 400,
          status: 'FAILED_PRECONDITION',
          message: `The batch job is already in a final state (${state}) and cannot be cancelled.`,
        });
      }
      job.cancelTime = context.clock.now();
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
      const job = requireJob(context, input.parameters['id']);
      if (job.cancelTime === undefined && !terminalStates.has(stateOf(job, { now: context.clock.now(), timings: context.timings() }))) {
        job.cancelTime = context.clock.now();
      }
      context.batches.remove(job.id);
      context.stats.batchesDeleted += 1;
      sendJson(input.response, 200, {});
    },
  },
];
