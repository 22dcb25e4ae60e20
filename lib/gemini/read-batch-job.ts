import { z } from 'zod';
import { GeminiCallError } from '../errors.ts';
import type { GeminiConnection } from './create-gemini-client.ts';

const googleBaseUrl = 'https://generativelanguage.googleapis.com';

// int64 counters arrive as strings, and zeros are left out (proto3 JSON).
const counter = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(Number).optional();

const operationSchema = z.object({
  name: z.string().regex(/^batches\/[^/]+$/),
  metadata: z
    .object({
      displayName: z.string().optional(),
      state: z.string().optional(),
      createTime: z.string().optional(),
      updateTime: z.string().optional(),
      endTime: z.string().optional(),
      batchStats: z
        .object({ requestCount: counter, successfulRequestCount: counter, failedRequestCount: counter, pendingRequestCount: counter })
        .optional(),
    })
    .optional(),
  error: z.object({ code: z.number().optional(), message: z.string().optional() }).optional(),
});

/** A batch job as the REST API describes it, with what the SDK leaves out: request counts and the failure reason. */
export interface BatchJobView {
  name: string;
  /** In the SDK's spelling (`JOB_STATE_RUNNING`), as the rest of chargen names states. */
  state: string;
  createTime?: string;
  updateTime?: string;
  endTime?: string;
  requestCount?: number;
  succeededCount?: number;
  failedCount?: number;
  pendingCount?: number;
  error?: string;
}

/**
 * `GET /v1beta/batches/{id}`, the request `batches.get` makes, read directly: the SDK's BatchJob drops `batchStats` and
 * the operation's `error` (gemini-wire.md §3.2), which the queue view shows.
 */
export async function readBatchJob(options: { connection: GeminiConnection; fetch: typeof globalThis.fetch; name: string; signal?: AbortSignal }): Promise<BatchJobView> {
  const operation = `batches.get ${options.name}`;
  if (!/^batches\/[a-zA-Z0-9_-]+$/.test(options.name)) throw new GeminiCallError({ operation, status: undefined, message: 'not a batch job name', isRetryable: false });
  const base = (options.connection.baseUrl ?? googleBaseUrl).replace(/\/+$/, '');
  let response: Response;
  try {
    response = await options.fetch(`${base}/v1beta/${options.name}`, {
      headers: { 'x-goog-api-key': options.connection.apiKey },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    throw new GeminiCallError({ operation, status: undefined, message: (error as Error).message, isRetryable: true, cause: error });
  }
  const text = await response.text();
  if (!response.ok) {
    throw new GeminiCallError({ operation, status: response.status, message: text.slice(0, 500) || response.statusText, isRetryable: response.status === 429 || response.status >= 500 });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new GeminiCallError({ operation, status: response.status, message: 'the answer is not JSON', isRetryable: true, cause: error });
  }
  const parsed = operationSchema.safeParse(body);
  if (!parsed.success) throw new GeminiCallError({ operation, status: response.status, message: `unexpected answer: ${parsed.error.issues[0]?.message ?? ''}`, isRetryable: false });
  const metadata = parsed.data.metadata ?? {};
  const stats = metadata.batchStats ?? {};
  const requestCount = stats.requestCount ?? 0;
  return {
    name: parsed.data.name,
    state: (metadata.state ?? 'BATCH_STATE_UNSPECIFIED').replace(/^BATCH_STATE_/, 'JOB_STATE_'),
    ...(metadata.createTime ? { createTime: metadata.createTime } : {}),
    ...(metadata.updateTime ? { updateTime: metadata.updateTime } : {}),
    ...(metadata.endTime ? { endTime: metadata.endTime } : {}),
    ...(metadata.batchStats ? { requestCount, succeededCount: stats.successfulRequestCount ?? 0, failedCount: stats.failedRequestCount ?? 0, pendingCount: stats.pendingRequestCount ?? 0 } : {}),
    ...(parsed.data.error?.message ? { error: parsed.data.error.message } : {}),
  };
}
