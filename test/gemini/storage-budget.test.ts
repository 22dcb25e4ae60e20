import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStorageBudget } from '../../lib/gemini/storage-budget.ts';
import { openUploadRegistry, readUploadRecords } from '../../lib/gemini/upload-registry.ts';

const sha = (digit: string) => digit.repeat(64);

describe('createStorageBudget', () => {
  it('grants reservations while they fit, in the order asked, and one larger than the budget alone', async () => {
    const budget = createStorageBudget({ budgetBytes: 100 });
    const first = await budget.reserve(60);
    const granted: string[] = [];
    const second = budget.reserve(60).then((giveBack) => (granted.push('second'), giveBack));
    // Fits, but asked after a reservation still waiting: it waits its turn.
    const third = budget.reserve(10).then((giveBack) => (granted.push('third'), giveBack));
    await Promise.resolve();
    expect(granted).toEqual([]);
    expect(budget.reservedBytes()).toBe(60);
    first();
    first();
    const [giveSecond, giveThird] = await Promise.all([second, third]);
    expect(granted).toEqual(['second', 'third']);
    expect(budget.reservedBytes()).toBe(70);
    giveSecond();
    giveThird();
    const huge = await budget.reserve(500);
    expect(budget.reservedBytes()).toBe(500);
    huge();
    expect(budget.peakBytes()).toBe(500);
    expect(budget.reservedBytes()).toBe(0);
  });
});

describe('the upload registry records deletions', () => {
  it('a deleted file is held no more, never reused, and stays deleted when the registry is read again', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'chargen-registry-'));
    try {
      const now = Date.UTC(2026, 11, 1);
      const expirationTime = new Date(now + 47 * 3_600_000).toISOString();
      const registry = await openUploadRegistry({ stateDirectory: directory, requiredLifetimeMilliseconds: 0, now: () => now });
      for (const digit of ['a', 'b']) await registry.record({ sha256: sha(digit), name: `files/${digit}`, uri: `uri-${digit}`, mimeType: 'image/png', sizeBytes: 10, expirationTime });
      expect(registry.listHeld(now).map((record) => record.name)).toEqual(['files/a', 'files/b']);
      await registry.recordDeletion({ sha256: sha('a'), now });
      expect(registry.findUsable({ sha256: sha('a'), now })).toBeUndefined();
      expect(registry.findUsable({ sha256: sha('b'), now })?.name).toBe('files/b');
      expect(registry.listHeld(now).map((record) => record.name)).toEqual(['files/b']);
      // Past its expiration a file is held no more either.
      expect(registry.listHeld(now + 48 * 3_600_000)).toEqual([]);
      await registry.close();
      const reopened = await openUploadRegistry({ stateDirectory: directory, requiredLifetimeMilliseconds: 0, now: () => now });
      expect(reopened.findUsable({ sha256: sha('a'), now })).toBeUndefined();
      expect(reopened.listHeld(now).map((record) => record.name)).toEqual(['files/b']);
      await reopened.close();
      expect((await readUploadRecords({ stateDirectory: directory })).filter((record) => record.deletedAt !== undefined)).toHaveLength(1);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
