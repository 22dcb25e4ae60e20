import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultConfigInput } from '../../emulator/fault-config.ts';
import { loadJobRecords, saveJobRecord, type JobRecord } from '../../lib/gemini/job-record.ts';
import { describeStraggler } from '../../lib/gemini/describe-straggler.ts';
import { stampPendingDeadline } from '../../lib/gemini/replace-straggler.ts';
import { createJobRecordIndex } from '../../lib/gemini/job-record-index.ts';
import { stateDatabasePath } from '../../lib/store/workspace-layout.ts';
import { createGeminiFixture, createTextLines, type GeminiFixture } from '../support/gemini-fixture.ts';

/**
 * Stragglers on the emulator through the real SDK: the fixture's sleep moves the emulator's clock, so a 20 s deadline
 * passes without waiting. The STUCK_PENDING fault keeps a job PENDING until a cancel lands.
 */

const model = 'gemini-3-flash-preview';
let fixture: GeminiFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function setFaults(target: GeminiFixture, faults: FaultConfigInput): Promise<void> {
  const response = await fetch(`${target.emulator.baseUrl}/_emulator/faults`, { method: 'POST', body: JSON.stringify(faults), headers: { 'content-type': 'application/json' } });
  expect(response.status).toBe(200);
}

function readCount(stats: Record<string, unknown>, field: string): number {
  return typeof stats[field] === 'number' ? stats[field] : 0;
}

function readAnswered(stats: Record<string, unknown>): number {
  return ((stats['requestsByModel'] ?? {}) as Record<string, number>)[model] ?? 0;
}

/** The keys the stage's outcomes hold in the backend's database (one row per key: a key put twice is one row). */
async function readCachedKeys(workspaceDirectory: string, stage: string): Promise<string[]> {
  const database = new Database(stateDatabasePath(workspaceDirectory), { readonly: true });
  try {
    return database.prepare('SELECT key FROM outcomes WHERE stage = ? ORDER BY key').pluck().all(stage) as string[];
  } finally {
    database.close();
  }
}

describe('stragglers: a job still PENDING at its deadline', () => {
  it('is cancelled, and once the cancel is confirmed its lines go into one new job; every key answered once', async () => {
    fixture = await createGeminiFixture({ latency: { pendingMilliseconds: 1_000, runningMilliseconds: 1_000, cancelMilliseconds: 500 } });
    await setFaults(fixture, { jobOutcomes: [{ outcome: 'STUCK_PENDING', count: 1 }] });
    const lines = createTextLines(6);
    const report = await fixture.createBatchExecutor({ settings: { pendingDeadlineMilliseconds: 20_000 } }).execute({ stage: 'analyze', model, lines });

    expect([...report.outcomes.values()].map((outcome) => outcome.status)).toEqual(Array(6).fill('succeeded'));
    expect(report.jobsCreated).toBe(2);
    // The cancelled straggler ran none of its lines: sent again in the replacement, they count once.
    expect(report.sentLines).toBe(6);
    const stats = await fixture.emulator.stats();
    expect(readCount(stats, 'batchesCreated')).toBe(2);
    expect(readCount(stats, 'batchesCancelled')).toBe(1);
    expect(readAnswered(stats)).toBe(6);
    expect((await readCachedKeys(fixture.workspaceDirectory, 'analyze')).sort()).toEqual(lines.map((line) => line.key).sort());

    const [straggler, replacement] = await loadJobRecords(fixture.workspaceDirectory, 'analyze');
    expect(straggler).toMatchObject({ status: 'finished', finalState: 'JOB_STATE_CANCELLED', replacedBy: replacement?.displayName });
    expect(straggler?.submittedAt).toBeDefined();
    // The deadline is the submission plus the setting; the cancel was asked at (or just after) it.
    expect(Date.parse(straggler?.pendingDeadlineAt ?? '') - Date.parse(straggler?.submittedAt ?? '')).toBe(20_000);
    expect(Date.parse(straggler?.cancelRequestedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(straggler?.pendingDeadlineAt ?? ''));
    expect(replacement).toMatchObject({ status: 'finished', finalState: 'JOB_STATE_SUCCEEDED', replaces: straggler?.displayName, attempt: 2 });
    // The replacement was created only after the straggler read CANCELLED (the cancel takes 500 ms to land).
    expect(Date.parse(replacement?.createdAt ?? '')).toBeGreaterThanOrEqual(Date.parse(straggler?.cancelRequestedAt ?? '') + 500);
    expect(fixture.logger.lines.some((line) => /still PENDING at its deadline/.test(line.text))).toBe(true);

    const again = await fixture.createBatchExecutor({ settings: { pendingDeadlineMilliseconds: 20_000 } }).execute({ stage: 'analyze', model, lines });
    expect(again.jobsCreated).toBe(0);
    expect(readCount(await fixture.emulator.stats(), 'batchesCreated')).toBe(2);
  });

  it('leaves a job that started RUNNING to finish, however long it runs past the deadline', async () => {
    fixture = await createGeminiFixture({ latency: { pendingMilliseconds: 1_000, runningMilliseconds: 120_000 } });
    const report = await fixture.createBatchExecutor({ settings: { pendingDeadlineMilliseconds: 5_000 } }).execute({ stage: 'analyze', model, lines: createTextLines(3) });
    expect([...report.outcomes.values()].every((outcome) => outcome.status === 'succeeded')).toBe(true);
    const stats = await fixture.emulator.stats();
    expect(readCount(stats, 'batchesCancelled')).toBe(0);
    expect(readCount(stats, 'batchesCreated')).toBe(1);
    const [record] = await loadJobRecords(fixture.workspaceDirectory, 'analyze');
    expect(record?.cancelRequestedAt).toBeUndefined();
    expect(record?.pendingDeadlineAt).toBeDefined();
  });

  it('keeps the answers of a straggler whose cancel lost the race (it SUCCEEDED first), and sends nothing again', async () => {
    // PENDING until 10 s, done at 10.1 s; the deadline at 9 s asks a cancel that would land at 14 s: too late.
    fixture = await createGeminiFixture({ latency: { pendingMilliseconds: 10_000, runningMilliseconds: 100, cancelMilliseconds: 5_000 } });
    const report = await fixture.createBatchExecutor({ settings: { pendingDeadlineMilliseconds: 9_000 } }).execute({ stage: 'analyze', model, lines: createTextLines(3) });
    expect([...report.outcomes.values()].map((outcome) => outcome.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(report.jobsCreated).toBe(1);
    const stats = await fixture.emulator.stats();
    expect(readCount(stats, 'batchesCreated')).toBe(1);
    expect(readAnswered(stats)).toBe(3);
    expect(readCount(stats, 'batchesCancelled')).toBe(0);
    const [record] = await loadJobRecords(fixture.workspaceDirectory, 'analyze');
    expect(record).toMatchObject({ status: 'finished', finalState: 'JOB_STATE_SUCCEEDED' });
    expect(record?.cancelRequestedAt).toBeDefined();
    expect(record?.replacedBy).toBeUndefined();
    expect(describeStraggler(record as JobRecord)).toBe(`straggler: still PENDING at its deadline ${record?.pendingDeadlineAt}, cancel asked; it ended SUCCEEDED with every line answered`);
  });

  it('waits with the setting at 0: no deadline in the record, no cancel', async () => {
    fixture = await createGeminiFixture({ latency: { pendingMilliseconds: 30_000, runningMilliseconds: 1_000 } });
    const report = await fixture.createBatchExecutor({ settings: { pendingDeadlineMilliseconds: 0 } }).execute({ stage: 'analyze', model, lines: createTextLines(2) });
    expect(report.jobsCreated).toBe(1);
    expect(readCount(await fixture.emulator.stats(), 'batchesCancelled')).toBe(0);
    const [record] = await loadJobRecords(fixture.workspaceDirectory, 'analyze');
    expect(record?.pendingDeadlineAt).toBeUndefined();
  });

  it('detached: asks the cancel and leaves; the next run confirms it and makes exactly one replacement', async () => {
    fixture = await createGeminiFixture({ latency: { pendingMilliseconds: 1_000, runningMilliseconds: 1_000, cancelMilliseconds: 500 } });
    await setFaults(fixture, { jobOutcomes: [{ outcome: 'STUCK_PENDING', count: 1 }] });
    const lines = createTextLines(4);
    const settings = { pendingDeadlineMilliseconds: 20_000 };
    const first = await fixture.createBatchExecutor({ settings }).execute({ stage: 'analyze', model, lines, detach: true });
    expect(first.pendingJobs).toBe(1);
    fixture.emulator.clock.advance(25_000);
    const second = await fixture.createBatchExecutor({ settings }).execute({ stage: 'analyze', model, lines, detach: true });
    expect(second.pendingJobs).toBe(1);
    const [asked] = await loadJobRecords(fixture.workspaceDirectory, 'analyze');
    expect(asked?.cancelRequestedAt).toBeDefined();
    expect(asked?.replacedBy).toBeUndefined();
    const third = await fixture.createBatchExecutor({ settings }).execute({ stage: 'analyze', model, lines });
    expect([...third.outcomes.values()].every((outcome) => outcome.status === 'succeeded')).toBe(true);
    // Each call counts what it sent: the first the straggler's lines, the third their replacement.
    expect([first.sentLines, second.sentLines, third.sentLines]).toEqual([4, 0, 4]);
    const stats = await fixture.emulator.stats();
    expect(readCount(stats, 'batchesCreated')).toBe(2);
    expect(readAnswered(stats)).toBe(4);
    expect((await loadJobRecords(fixture.workspaceDirectory, 'analyze')).map((record) => record.replaces ?? '-')).toEqual(['-', asked?.displayName]);
  });

  it('on a rerun after a crash between the replacement record and the straggler naming it, adopts that replacement', async () => {
    fixture = await createGeminiFixture({ latency: { pendingMilliseconds: 1_000, runningMilliseconds: 1_000, cancelMilliseconds: 500 } });
    await setFaults(fixture, { jobOutcomes: [{ outcome: 'STUCK_PENDING', count: 1 }] });
    const lines = createTextLines(4);
    const settings = { pendingDeadlineMilliseconds: 20_000 };
    await fixture.createBatchExecutor({ settings }).execute({ stage: 'analyze', model, lines, detach: true });
    fixture.emulator.clock.advance(25_000);
    await fixture.createBatchExecutor({ settings }).execute({ stage: 'analyze', model, lines, detach: true });
    fixture.emulator.clock.advance(1_000);
    // What a crash leaves: the replacement's record written (nothing created yet), the straggler not yet finished.
    const [straggler] = await loadJobRecords(fixture.workspaceDirectory, 'analyze');
    if (!straggler) throw new Error('no straggler record');
    const replacementName = straggler.displayName.replace(/-1$/, '-2');
    const { jobName: _jobName, inputFileName: _inputFileName, submittedAt: _submittedAt, pendingDeadlineAt: _deadline, cancelRequestedAt: _asked, ...base } = straggler;
    await saveJobRecord(fixture.workspaceDirectory, { ...base, displayName: replacementName, attempt: 2, replaces: straggler.displayName, status: 'preparing' });

    const report = await fixture.createBatchExecutor({ settings }).execute({ stage: 'analyze', model, lines });
    expect([...report.outcomes.values()].every((outcome) => outcome.status === 'succeeded')).toBe(true);
    const records = await loadJobRecords(fixture.workspaceDirectory, 'analyze');
    expect(records.map((record) => record.displayName)).toEqual([straggler.displayName, replacementName]);
    expect(records[0]?.replacedBy).toBe(replacementName);
    const stats = await fixture.emulator.stats();
    expect(readCount(stats, 'batchesCreated')).toBe(2);
    expect(readAnswered(stats)).toBe(4);
  });
});

describe('the pending deadline a job gets', () => {
  const base: JobRecord = { version: 1, displayName: 'a-1', stage: 'analyze', model, fingerprint: 'f'.repeat(64), attempt: 1, keys: ['k'], requestFile: 'r.jsonl', status: 'submitted', createdAt: '2026-11-21T12:00:00.000Z' };
  const now = Date.UTC(2026, 10, 21, 12);

  it('is its submission plus the setting, once; a chain of replacements stops at maxRounds jobs; 0 gives none', () => {
    const first = { ...base };
    const stamp = (record: JobRecord, options: { records: JobRecord[]; maxRounds?: number; deadlineMilliseconds?: number; at?: number }) =>
      stampPendingDeadline({ record, replacementsBefore: createJobRecordIndex(options.records).countReplacements(record), deadlineMilliseconds: options.deadlineMilliseconds ?? 60_000, maxRounds: options.maxRounds ?? 3, now: options.at ?? now });
    expect(stamp(first, { records: [first] })).toBe(true);
    expect(first).toMatchObject({ submittedAt: '2026-11-21T12:00:00.000Z', pendingDeadlineAt: '2026-11-21T12:01:00.000Z' });
    expect(stamp(first, { records: [first], at: now + 5 })).toBe(false);
    const second: JobRecord = { ...base, displayName: 'a-2', replaces: 'a-1' };
    const third: JobRecord = { ...base, displayName: 'a-3', replaces: 'a-2' };
    const records = [first, second, third];
    stamp(second, { records });
    stamp(third, { records });
    expect(second.pendingDeadlineAt).toBeDefined();
    expect(third.pendingDeadlineAt).toBeUndefined();
    const once = { ...base };
    stamp(once, { records: [once], maxRounds: 1 });
    const off = { ...base };
    stamp(off, { records: [off], deadlineMilliseconds: 0 });
    expect([once.pendingDeadlineAt, off.pendingDeadlineAt, off.submittedAt]).toEqual([undefined, undefined, '2026-11-21T12:00:00.000Z']);
  });
});

describe('the job record index', () => {
  const base: JobRecord = { version: 1, displayName: 'a-1', stage: 'analyze', model, fingerprint: 'f'.repeat(64), attempt: 1, keys: ['k'], requestFile: 'r.jsonl', status: 'finished', createdAt: '2026-11-21T12:00:00.000Z' };

  it('numbers attempts by fingerprint, follows replacement chains, bounds a looped chain, and lists only jobs not finished as they are now', () => {
    const other = 'e'.repeat(64);
    const running: JobRecord = { ...base, displayName: 'a-2', replaces: 'a-1', status: 'submitted' };
    const index = createJobRecordIndex([base, running, { ...base, displayName: 'b-1', fingerprint: other }]);
    expect([index.countAttempts(base.fingerprint), index.countAttempts(other), index.countAttempts('0'.repeat(64))]).toEqual([2, 1, 0]);
    expect(index.findReplacement('a-1')).toBe('a-2');
    expect(index.findReplacement('a-2')).toBeUndefined();
    expect(index.countReplacements(running)).toBe(1);
    expect(index.listUnfinished().map((record) => record.displayName)).toEqual(['a-2']);
    const added: JobRecord = { ...base, displayName: 'a-3', replaces: 'a-2', status: 'preparing' };
    index.add(added);
    index.add(added);
    expect(index.countAttempts(base.fingerprint)).toBe(3);
    expect(index.countReplacements(added)).toBe(2);
    running.status = 'finished';
    expect(index.listUnfinished().map((record) => record.displayName)).toEqual(['a-3']);
    // Two hand-edited records naming each other: the walk stops.
    const looped = createJobRecordIndex([{ ...base, displayName: 'x', replaces: 'y' }, { ...base, displayName: 'y', replaces: 'x' }]);
    expect(looped.countReplacements({ replaces: 'x' })).toBeLessThanOrEqual(3);
  });
});

describe('settled once', () => {
  it('drops a late answer for a key already answered: one outcome, one stored answer, one progress tick per key', async () => {
    fixture = await createGeminiFixture({ latency: { pendingMilliseconds: 1_000, runningMilliseconds: 1_000 } });
    const lines = createTextLines(3);
    await fixture.createBatchExecutor().execute({ stage: 'analyze', model, lines, detach: true });
    // A crashed run's second record for the same lines (as after a hand-restored record): both jobs answer them.
    const [first] = await loadJobRecords(fixture.workspaceDirectory, 'analyze');
    if (!first?.jobName) throw new Error('no first job');
    const { jobName: _jobName, ...unsent } = first;
    await saveJobRecord(fixture.workspaceDirectory, { ...unsent, displayName: `${first.displayName}-twin`, status: 'preparing' });

    // Each answer placed is one progress tick: a key placed twice would count twice.
    let answeredTicks = 0;
    fixture.logger.progress = (event) => {
      answeredTicks += event.answered ?? 0;
    };
    const report = await fixture.createBatchExecutor().execute({ stage: 'analyze', model, lines });
    expect(report.outcomes.size).toBe(3);
    expect(readAnswered(await fixture.emulator.stats())).toBe(6);
    expect(answeredTicks).toBe(3);
    expect((await readCachedKeys(fixture.workspaceDirectory, 'analyze')).sort()).toEqual(lines.map((line) => line.key).sort());
    expect(fixture.logger.lines.some((line) => /3 late answers for keys already answered dropped/.test(line.text))).toBe(true);
  });
});
