import { ApiError } from '@google/genai';
import { DownloadError, GeminiCallError } from '../errors.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  initialDelayMilliseconds: number;
  maxDelayMilliseconds: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 6, initialDelayMilliseconds: 1_000, maxDelayMilliseconds: 60_000 };

export interface RetryEnvironment {
  sleep: (milliseconds: number) => Promise<void>;
  /** In [0, 1); injected so tests replay the jitter. */
  random: () => number;
}

const retryableStatuses = new Set([408, 429, 500, 502, 503, 504]);
const connectionErrorCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/** RetryInfo.retryDelay ("41s", "1.5s") from an error body the SDK put in the message. */
function findRetryDelay(message: string): number | undefined {
  const match = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(message);
  return match?.[1] === undefined ? undefined : Math.round(Number(match[1]) * 1000);
}

/** Whether the call never reached an answer: refused, reset, timed out or not resolved (this or a cause of it). */
export function isConnectionError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code !== undefined && connectionErrorCodes.has(code)) return true;
    if (current instanceof TypeError && /fetch failed|terminated|socket/i.test(current.message)) return true;
    if (current.name === 'AbortError' || current.name === 'TimeoutError') return true;
    current = current.cause;
  }
  return false;
}

/** What went wrong in a Gemini call, as one error type: retryable for 408/429/5xx and lost connections. */
export function toGeminiCallError(operation: string, error: unknown): GeminiCallError {
  if (error instanceof GeminiCallError) return error;
  if (error instanceof ApiError) {
    const retryDelayMilliseconds = findRetryDelay(error.message);
    return new GeminiCallError({
      operation,
      status: error.status,
      message: error.message,
      isRetryable: retryableStatuses.has(error.status),
      ...(retryDelayMilliseconds !== undefined ? { retryDelayMilliseconds } : {}),
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  // A download that came short or truncated says itself that another try can mend it.
  const isRetryable = isConnectionError(error) || (error instanceof DownloadError && error.isRetryable);
  return new GeminiCallError({ operation, status: undefined, message, isRetryable, cause: error });
}

/** Exponential backoff with jitter, never shorter than what the server asked for. */
export function computeRetryDelay(options: { attempt: number; policy: RetryPolicy; random: () => number; serverDelayMilliseconds?: number }): number {
  const exponential = Math.min(options.policy.maxDelayMilliseconds, options.policy.initialDelayMilliseconds * 2 ** options.attempt);
  const jittered = exponential / 2 + options.random() * (exponential / 2);
  return Math.max(jittered, options.serverDelayMilliseconds ?? 0);
}

/** Calls `call` until it succeeds, fails for good, or runs out of attempts; throws a GeminiCallError. */
export async function callWithRetry<T>(options: {
  operation: string;
  call: () => Promise<T>;
  policy: RetryPolicy;
  environment: RetryEnvironment;
  onRetry?: (error: GeminiCallError, delayMilliseconds: number) => void;
}): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await options.call();
    } catch (caught) {
      const error = toGeminiCallError(options.operation, caught);
      if (!error.isRetryable || attempt + 1 >= options.policy.attempts) throw error;
      const delay = computeRetryDelay({
        attempt,
        policy: options.policy,
        random: options.environment.random,
        ...(error.retryDelayMilliseconds !== undefined ? { serverDelayMilliseconds: error.retryDelayMilliseconds } : {}),
      });
      options.onRetry?.(error, delay);
      await options.environment.sleep(delay);
    }
  }
}
