import { ApiError } from '@google/genai';
import { expect } from 'vitest';

/** The ApiError a call through the SDK failed with (and a failed assertion if it did not fail that way). */
export async function expectApiError(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

/** The ApiError a call failed with, checked for its HTTP status and a text its message contains. */
export async function expectApiErrorWith(promise: Promise<unknown>, status: number, text: string): Promise<ApiError> {
  const apiError = await expectApiError(promise);
  expect(apiError.status).toBe(status);
  expect(apiError.message).toContain(text);
  return apiError;
}
