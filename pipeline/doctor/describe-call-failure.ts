import { ApiError } from '@google/genai';
import { isRecord } from '../is-record.ts';
import { toGeminiCallError } from '../gemini/call-with-retry.ts';
import { describeLineError } from '../gemini/line-outcome.ts';

function findErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * Pure: a failed call in one line for people: the API's own status and message ("models.list: error 400
 * INVALID_ARGUMENT: API key not valid…") rather than the SDK's JSON, or the network's error code when nothing answered.
 */
export function describeCallFailure(operation: string, error: unknown): string {
  const failure = toGeminiCallError(operation, error);
  if (failure.cause instanceof ApiError) {
    try {
      const body = JSON.parse(failure.cause.message) as unknown;
      if (isRecord(body) && isRecord(body['error'])) return `${failure.operation}: ${describeLineError(body['error']).reason}`;
    } catch {
      // Not the JSON envelope: the message as it came.
    }
  }
  const code = failure.status === undefined ? findErrorCode(failure.cause) : undefined;
  return `${failure.message}${code !== undefined && !failure.message.includes(code) ? ` (${code})` : ''}`;
}
