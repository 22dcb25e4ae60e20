import { describe, expect, it } from 'vitest';
import { executeWithReupload } from '../../lib/gemini/execute-with-reupload.ts';
import type { LineOutcome } from '../../lib/gemini/line-outcome.ts';

interface Item {
  key: string;
  sha256?: string;
}

const gone = (key: string): LineOutcome => ({ key, status: 'failed', reason: 'file gone', retryable: true, error: { code: 403, status: 'PERMISSION_DENIED' } });
const answered = (key: string): LineOutcome => ({ key, status: 'succeeded', response: { candidates: [] } });

describe('executeWithReupload', () => {
  it('sends again, with their uploads refreshed, only the items whose upload is gone, and keeps the second answers', async () => {
    const items: Item[] = [{ key: 'a', sha256: 'sha-a' }, { key: 'b', sha256: 'sha-b' }, { key: 'c' }];
    const calls: { keys: string[]; refresh?: string[] }[] = [];
    const told: number[] = [];
    const outcomes = await executeWithReupload({
      items,
      send: async (sent, refresh) => {
        calls.push({ keys: sent.map((item) => item.key), ...(refresh ? { refresh: [...refresh] } : {}) });
        if (refresh) return new Map(sent.map((item) => [item.key, answered(item.key)]));
        return new Map([['a', gone('a')], ['b', answered('b')], ['c', gone('c')]]);
      },
      keyOf: (item) => item.key,
      uploadOf: (item) => item.sha256,
      onReupload: (count) => told.push(count),
    });
    // `c` points at no upload: its 403 is not mended by uploading again.
    expect(calls).toEqual([{ keys: ['a', 'b', 'c'] }, { keys: ['a'], refresh: ['sha-a'] }]);
    expect(told).toEqual([1]);
    expect(outcomes.get('a')?.status).toBe('succeeded');
    expect(outcomes.get('c')?.status).toBe('failed');
  });

  it('sends once when no upload is gone, and a model that is not served is not taken for a gone file', async () => {
    let sends = 0;
    const notServed: LineOutcome = { key: 'a', status: 'failed', reason: 'no model', retryable: false, error: { code: 404, message: 'models/x is not found for API version v1beta' } };
    const outcomes = await executeWithReupload({
      items: [{ key: 'a', sha256: 'sha-a' }],
      send: async () => {
        sends += 1;
        return new Map([['a', notServed]]);
      },
      keyOf: (item: Item) => item.key,
      uploadOf: (item: Item) => item.sha256,
      onReupload: () => expect.unreachable(),
    });
    expect(sends).toBe(1);
    expect(outcomes.get('a')).toBe(notServed);
  });
});
