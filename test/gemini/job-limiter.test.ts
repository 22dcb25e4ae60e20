import { describe, expect, it } from 'vitest';
import { createJobLimiter, type JobLimiter } from '../../lib/gemini/job-limiter.ts';
import { fingerprintChunk, formatDisplayName } from '../../lib/gemini/plan-chunks.ts';
import { saveJobRecord } from '../../lib/gemini/job-record.ts';
import { createGeminiFixture, createTextLines } from '../support/gemini-fixture.ts';

const model = 'gemini-3-flash-preview';

/** The limiter, telling the most jobs it ever let run at once. */
function watchLimiter(limiter: JobLimiter): { limiter: JobLimiter; peak: () => number } {
  let peak = 0;
  return {
    limiter: {
      ...limiter,
      run: (work) =>
        limiter.run(() => {
          peak = Math.max(peak, limiter.countActive());
          return work();
        }),
    },
    peak: () => peak,
  };
}

describe('createJobLimiter', () => {
  it('runs at most its limit at once and gives slots in the order asked', async () => {
    const limiter = createJobLimiter({ limit: 2 });
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const runs = [0, 1, 2, 3].map((index) =>
      limiter.run(async () => {
        started.push(index);
        await new Promise<void>((resolve) => releases.push(resolve));
        return index;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(limiter.countWaiting()).toBe(2);
    releases[1]?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    releases[0]?.();
    await new Promise((resolve) => setImmediate(resolve));
    releases[2]?.();
    releases[3]?.();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(limiter.countActive()).toBe(0);
  });
});

describe('one job limit for every call of a batch executor', () => {
  it('follows at most maxJobsInFlight jobs across calls running side by side, and their answers share one cache', async () => {
    const fixture = await createGeminiFixture();
    try {
      const watched = watchLimiter(createJobLimiter({ limit: 2 }));
      const executor = fixture.createBatchExecutor({ settings: { chunkMaxLines: 5 }, jobLimiter: watched.limiter });
      const reports = await Promise.all(['a', 'b', 'c'].map((prefix) => executor.execute({ stage: 'analyze', model, lines: createTextLines(10, prefix) })));
      for (const report of reports) {
        expect([...report.outcomes.values()].filter((outcome) => outcome.status === 'succeeded')).toHaveLength(10);
        expect(report.jobsCreated).toBe(2);
      }
      expect(watched.peak()).toBe(2);
      const again = await fixture.createBatchExecutor().execute({ stage: 'analyze', model, lines: ['a', 'b', 'c'].flatMap((prefix) => createTextLines(10, prefix)) });
      expect(again.cachedKeys).toBe(30);
      expect(again.sentLines).toBe(0);
    } finally {
      await fixture.close();
    }
  });

  it('follows a job of an earlier run once when two calls running side by side want its keys', async () => {
    const fixture = await createGeminiFixture();
    try {
      const lines = createTextLines(10);
      const keys = lines.map((line) => line.key);
      const fingerprint = fingerprintChunk({ model, keys });
      const displayName = formatDisplayName({ workspaceId: 'ws1', stage: 'analyze', fingerprint, attempt: 1 });
      const jsonl = lines.map((line) => JSON.stringify(line)).join('\n');
      const input = await fixture.emulator.client.files.upload({ file: new Blob([jsonl]), config: { mimeType: 'application/json' } });
      await saveJobRecord(fixture.workspaceDirectory, {
        version: 1,
        displayName,
        stage: 'analyze',
        model,
        fingerprint,
        attempt: 1,
        keys,
        requestFile: 'requests/analyze/earlier.jsonl',
        inputFileName: input.name ?? 'files/x',
        status: 'preparing',
        createdAt: new Date(fixture.emulator.clock.now()).toISOString(),
      });
      const executor = fixture.createBatchExecutor();
      const [first, second] = await Promise.all([executor.execute({ stage: 'analyze', model, lines: lines.slice(0, 5) }), executor.execute({ stage: 'analyze', model, lines: lines.slice(5) })]);
      for (const report of [first, second]) expect([...report.outcomes.values()].map((outcome) => outcome.status)).toEqual(Array(5).fill('succeeded'));
      const stats = await fixture.emulator.stats();
      expect(stats['batchesCreated']).toBe(1);
      expect(stats['requestsByModel']).toEqual({ [model]: 10 });
    } finally {
      await fixture.close();
    }
  });
});
