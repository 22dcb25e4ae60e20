import { z } from 'zod';
import { isRecord } from '../../schemas/is-record.ts';

/** One unit of work: a REST GenerateContentRequest (generationConfig etc. in REST names) under a content-derived key. */
export interface RequestLine {
  key: string;
  request: Record<string, unknown>;
}

export const lineOutcomeSchema = z.discriminatedUnion('status', [
  z.object({ key: z.string().min(1), status: z.literal('succeeded'), response: z.record(z.string(), z.unknown()) }).strict(),
  z
    .object({
      key: z.string().min(1),
      status: z.literal('failed'),
      reason: z.string(),
      retryable: z.boolean(),
      /** The raw error line or status, for the dead-letter report. */
      error: z.unknown().optional(),
      /** What to do about it, when the Gemini layer knows better than the stage (a request refused before any answer). */
      fix: z.string().optional(),
    })
    .strict(),
]);
export type LineOutcome = z.infer<typeof lineOutcomeSchema>;
export type FailedOutcome = Extract<LineOutcome, { status: 'failed' }>;

/** What a stage says of a response: keep it, or a failure (an answer that breaks the schema is retryable). */
export type ResponseVerdict = { ok: true } | { ok: false; reason: string; retryable: boolean };
export type ResponseValidator = (response: Record<string, unknown>) => ResponseVerdict | Promise<ResponseVerdict>;

const policyFinishReasons = new Set([
  'SAFETY', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII', 'RECITATION', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION',
]);
const acceptedFinishReasons = new Set(['STOP', 'FINISH_REASON_UNSPECIFIED']);
const retryableRpcCodes = new Set([1, 2, 4, 8, 10, 13, 14]);
/** google.rpc.Code names by number: real error lines carry the number and may omit the name (python-genai#1341). */
const rpcStatusNames = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;
const retryableHttpCodes = new Set([408, 429, 500, 502, 503, 504]);


/**
 * The failure a response carries in itself: a blocked prompt, no candidates, a policy finish reason (never retried:
 * the same prompt would be blocked again), or another unusual finish (retried).
 */
export function inspectResponse(response: Record<string, unknown>): ResponseVerdict {
  const candidates = Array.isArray(response['candidates']) ? response['candidates'] : [];
  const feedback = isRecord(response['promptFeedback']) ? response['promptFeedback'] : undefined;
  if (candidates.length === 0) {
    const blockReason = feedback?.['blockReason'];
    if (typeof blockReason === 'string') return { ok: false, reason: `prompt blocked: ${blockReason}`, retryable: false };
    return { ok: false, reason: 'response without candidates', retryable: true };
  }
  const first = candidates[0];
  const finishReason = isRecord(first) && typeof first['finishReason'] === 'string' ? first['finishReason'] : 'STOP';
  if (policyFinishReasons.has(finishReason)) return { ok: false, reason: `finish reason ${finishReason}`, retryable: false };
  if (!acceptedFinishReasons.has(finishReason)) return { ok: false, reason: `finish reason ${finishReason}`, retryable: true };
  return { ok: true };
}

/**
 * PERMISSION_DENIED or NOT_FOUND on a line: what the API answers when a file the request points at (an uploaded
 * image) has expired or was deleted. Mended by uploading it again, so it is retryable, and never cached as final.
 */
export function isMissingFileError(error: unknown): boolean {
  if (!isRecord(error)) return false;
  // A model that is not served is a 404 too ("models/x is not found for API version …"): no upload mends that.
  if (typeof error['message'] === 'string' && /is not found for API version|Model is not found/i.test(error['message'])) return false;
  return [7, 5, 403, 404].includes(error['code'] as number) || error['status'] === 'PERMISSION_DENIED' || error['status'] === 'NOT_FOUND';
}

/** A batch line's `error` (or `status`) Status: retryable when its code says the server, not the request, was at fault. */
export function describeLineError(error: unknown): { reason: string; retryable: boolean } {
  if (!isRecord(error)) return { reason: 'error line without a status', retryable: true };
  const code = typeof error['code'] === 'number' ? error['code'] : undefined;
  const name = typeof error['status'] === 'string' ? error['status'] : code !== undefined ? rpcStatusNames[code] : undefined;
  const status = name !== undefined ? ` ${name}` : '';
  const message = typeof error['message'] === 'string' ? `: ${error['message']}` : '';
  const retryable = code === undefined || retryableRpcCodes.has(code) || retryableHttpCodes.has(code) || isMissingFileError(error);
  return { reason: `error ${code ?? '?'}${status}${message}`, retryable };
}

/** The outcome of one answered line: the API's verdict first, then the stage's own. */
export async function judgeResponse(options: { key: string; response: Record<string, unknown>; validate?: ResponseValidator }): Promise<LineOutcome> {
  const verdict = inspectResponse(options.response);
  const final = verdict.ok && options.validate ? await options.validate(options.response) : verdict;
  if (final.ok) return { key: options.key, status: 'succeeded', response: options.response };
  return { key: options.key, status: 'failed', reason: final.reason, retryable: final.retryable };
}
