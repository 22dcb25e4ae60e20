import { ApiError } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { callWithRetry, computeRetryDelay, toGeminiCallError } from '../../lib/gemini/call-with-retry.ts';
import { GeminiCallError } from '../../lib/errors.ts';
import { createSeededRandom } from '../support/gemini-fixture.ts';

const policy = { attempts: 4, initialDelayMilliseconds: 100, maxDelayMilliseconds: 1_000 };

function quotaError(retryDelay: string): ApiError {
  const body = { error: { code: 429, status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }] } };
  return new ApiError({ message: JSON.stringify(body), status: 429 });
}

describe('callWithRetry', () => {
  it('retries 429s, waiting at least what RetryInfo asks, then succeeds', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const result = await callWithRetry({
      operation: 'test',
      policy,
      environment: { sleep: async (milliseconds) => void sleeps.push(milliseconds), random: createSeededRandom() },
      call: async () => {
        calls += 1;
        if (calls < 3) throw quotaError('7s');
        return 'done';
      },
    });
    expect(result).toBe('done');
    expect(sleeps).toHaveLength(2);
    expect(sleeps.every((delay) => delay >= 7000)).toBe(true);
  });

  it('gives up at once on a 400, with the operation named and the status kept', async () => {
    let calls = 0;
    const error = await callWithRetry({
      operation: 'batches.create',
      policy,
      environment: { sleep: async () => undefined, random: Math.random },
      call: async () => {
        calls += 1;
        throw new ApiError({ message: '{"error":{"code":400}}', status: 400 });
      },
    }).catch((caught: unknown) => caught);
    expect(calls).toBe(1);
    expect(error).toBeInstanceOf(GeminiCallError);
    expect((error as GeminiCallError).status).toBe(400);
    expect((error as GeminiCallError).message).toContain('batches.create');
  });

  it('retries a lost connection, and stops after the last attempt', async () => {
    let calls = 0;
    const error = await callWithRetry({
      operation: 'files.upload',
      policy,
      environment: { sleep: async () => undefined, random: Math.random },
      call: async () => {
        calls += 1;
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      },
    }).catch((caught: unknown) => caught);
    expect(calls).toBe(4);
    expect((error as GeminiCallError).isRetryable).toBe(true);
  });
});

describe('computeRetryDelay', () => {
  it('grows exponentially with jitter and stays under the ceiling', () => {
    const random = createSeededRandom(3);
    const delays = Array.from({ length: 8 }, (_unused, attempt) => computeRetryDelay({ attempt, policy, random }));
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[3]).toBeGreaterThanOrEqual(400);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
  });

  it('classifies 503 as retryable and 404 as not', () => {
    expect(toGeminiCallError('x', new ApiError({ message: '{}', status: 503 })).isRetryable).toBe(true);
    expect(toGeminiCallError('x', new ApiError({ message: '{}', status: 404 })).isRetryable).toBe(false);
  });
});
