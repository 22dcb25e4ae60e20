import { z } from 'zod';
import { formatZodIssues } from '../../schemas/format-zod-issues.ts';
import { invalidArgument } from '../api-error.ts';
import type { EmulatorContext, Route } from '../emulator-context.ts';
import { faultConfigSchema } from '../fault-config.ts';
import { HttpRejection, readJsonBody, sendJson } from '../http-io.ts';

const clockChangeSchema = z.object({ advanceMilliseconds: z.number().int().min(0) }).strict();

function parseOrReject<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new HttpRejection(invalidArgument(`Invalid emulator settings: ${formatZodIssues(parsed.error.issues)}`));
  }
  return parsed.data;
}

function describeStats(context: EmulatorContext): Record<string, unknown> {
  return {
    ...context.stats,
    requestsByModel: { ...context.stats.requestsByModel },
    files: context.files.listLive().length,
    batches: context.batches.list().length,
    /** Vertex AI batch prediction jobs (their creates and cancels count in batchesCreated / batchesCancelled too). */
    predictionJobs: context.predictionJobs.list().length,
    storage: context.storage.objects.summary(),
    faultsInjected: context.faults.injectedCounts(),
    clock: { now: new Date(context.clock.now()).toISOString(), offsetMilliseconds: context.clock.offsetMilliseconds() },
  };
}

/**
 * The admin surface under /_emulator/: what tests and users read to prove that a rerun sent nothing, and the
 * switches that inject faults and move the emulator's clock.
 */
export function createAdminRoutes(reset: () => Promise<void>): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/_emulator\/stats$/,
      requiresKey: false,
      handle: async (context, input) => sendJson(input.response, 200, describeStats(context)),
    },
    {
      method: 'POST',
      pattern: /^\/_emulator\/reset$/,
      requiresKey: false,
      handle: async (_context, input) => {
        input.request.resume();
        await reset();
        sendJson(input.response, 200, {});
      },
    },
    {
      method: 'GET',
      pattern: /^\/_emulator\/faults$/,
      requiresKey: false,
      handle: async (context, input) => sendJson(input.response, 200, context.faults.config()),
    },
    {
      method: 'POST',
      pattern: /^\/_emulator\/faults$/,
      requiresKey: false,
      handle: async (context, input) => {
        const body = await readJsonBody(input.request, { limitBytes: 1024 * 1024 });
        context.faults.replace(parseOrReject(faultConfigSchema, body));
        sendJson(input.response, 200, context.faults.config());
      },
    },
    {
      method: 'GET',
      pattern: /^\/_emulator\/clock$/,
      requiresKey: false,
      handle: async (context, input) =>
        sendJson(input.response, 200, { now: new Date(context.clock.now()).toISOString(), offsetMilliseconds: context.clock.offsetMilliseconds() }),
    },
    {
      method: 'POST',
      pattern: /^\/_emulator\/clock$/,
      requiresKey: false,
      handle: async (context, input) => {
        const body = await readJsonBody(input.request, { limitBytes: 64 * 1024 });
        context.clock.shift(parseOrReject(clockChangeSchema, body).advanceMilliseconds);
        sendJson(input.response, 200, { now: new Date(context.clock.now()).toISOString(), offsetMilliseconds: context.clock.offsetMilliseconds() });
      },
    },
  ];
}
