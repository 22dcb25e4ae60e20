import { afterEach, describe, expect, it } from 'vitest';
import type { LineOutcome } from '../../lib/gemini/line-outcome.ts';
import { createGeminiFixture, createTextLines, type GeminiFixture } from '../support/gemini-fixture.ts';

let fixture: GeminiFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const faults = {
  seed: 'workload',
  endpoints: { '*': { rate429: 0.2, rate503: 0.1 } },
  retryDelaySeconds: 2,
  lineErrorRate: 0.1,
};

function answerText(outcome: LineOutcome | undefined): string | undefined {
  if (outcome?.status !== 'succeeded') return undefined;
  const candidates = outcome.response['candidates'] as { content: { parts: { text?: string }[] } }[];
  return candidates[0]?.content.parts.map((part) => part.text ?? '').join('');
}

describe('a 1,000-line workload with faults switched on', () => {
  it.each(['batch', 'sync'] as const)('%s: accounts for every key, and a second run sends no request at all', async (mode) => {
    fixture = await createGeminiFixture({ faults });
    const lines = createTextLines(1000, mode);
    const settings = { chunkMaxLines: 250, maxRounds: 5, syncConcurrency: 8 };
    const executor = mode === 'batch' ? fixture.createBatchExecutor({ settings }) : fixture.createSyncExecutor({ settings });
    const report = await executor.execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines });

    expect(report.outcomes.size).toBe(1000);
    const succeeded = [...report.outcomes.values()].filter((outcome) => outcome.status === 'succeeded');
    expect(succeeded).toHaveLength(1000);
    const injected = (await fixture.emulator.stats())['faultsInjected'] as Record<string, number>;
    expect(injected['lineError'] ?? 0).toBeGreaterThan(mode === 'batch' ? 50 : -1);
    expect(Object.entries(injected).filter(([name]) => name.startsWith('429:')).length).toBeGreaterThan(0);

    const statsBefore = await fixture.emulator.stats();
    const again = await (mode === 'batch' ? fixture.createBatchExecutor({ settings }) : fixture.createSyncExecutor({ settings })).execute({
      stage: 'analyze',
      model: 'gemini-3-flash-preview',
      lines,
    });
    expect(again.cachedKeys).toBe(1000);
    expect(again.sentLines).toBe(0);
    const statsAfter = await fixture.emulator.stats();
    expect(statsAfter['requestsByModel']).toEqual(statsBefore['requestsByModel']);
    expect(statsAfter['batchesCreated']).toBe(statsBefore['batchesCreated']);
    expect(statsAfter['generateContentCalls']).toBe(statsBefore['generateContentCalls']);
    expect(statsAfter['uploads']).toBe(statsBefore['uploads']);
  });

  it('gives the same answers through the sync and the batch executor', async () => {
    fixture = await createGeminiFixture();
    const lines = createTextLines(12, 'same');
    const batch = await fixture.createBatchExecutor().execute({ stage: 'batch-stage', model: 'gemini-3-flash-preview', lines });
    const sync = await fixture.createSyncExecutor().execute({ stage: 'sync-stage', model: 'gemini-3-flash-preview', lines });
    for (const line of lines) {
      expect(answerText(sync.outcomes.get(line.key))).toBeDefined();
      expect(answerText(sync.outcomes.get(line.key))).toBe(answerText(batch.outcomes.get(line.key)));
    }
  });
});
