import { ApiError } from '@google/genai';
import { z } from 'zod';

const errorBodySchema = z.object({ error: z.object({ message: z.string() }).loose() }).loose();

/**
 * The `message` of the error body the SDK put in an ApiError's message (it stringifies the whole body: `{"error":
 * {"code": 400, "message": ..., "status": ...}}`), found on the error or along its causes; undefined when there is none.
 */
export function readApiErrorMessage(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    if (current instanceof ApiError) {
      let body: unknown;
      try {
        body = JSON.parse(current.message) as unknown;
      } catch {
        return undefined;
      }
      const parsed = errorBodySchema.safeParse(body);
      return parsed.success ? parsed.data.error.message : undefined;
    }
    current = current.cause;
  }
  return undefined;
}
