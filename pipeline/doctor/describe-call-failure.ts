import { toGeminiCallError } from '../../lib/gemini/call-with-retry.ts';
import { readApiErrorMessage } from '../../lib/gemini/read-api-error.ts';

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
 * Pure: a failed call in one line for people: the HTTP status and the API's own message ("models.list: 400 API key
 * not valid…") rather than the SDK's JSON, or the network's error code when nothing answered.
 */
export function describeCallFailure(operation: string, error: unknown): string {
  const failure = toGeminiCallError(operation, error);
  const message = readApiErrorMessage(failure);
  // `operation` rather than the failure's own: a lower layer may have named it by a temporary file's path.
  if (message !== undefined) return `${operation}: ${failure.status ?? 'error'} ${message}`;
  const code = failure.status === undefined ? findErrorCode(failure.cause) : undefined;
  return `${failure.message}${code !== undefined && !failure.message.includes(code) ? ` (${code})` : ''}`;
}
