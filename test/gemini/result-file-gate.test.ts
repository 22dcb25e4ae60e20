import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskFullError, exitCodeFor } from '../../lib/errors.ts';
import { readResultLines, type ResultLineReader } from '../../lib/gemini/read-result-lines.ts';
import { createResultFileGate } from '../../lib/gemini/result-file-gate.ts';
import { createGeminiFixture, createTextLines, type GeminiFixture } from '../support/gemini-fixture.ts';

let fixture: GeminiFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const model = 'gemini-3-flash-preview';

/**
 * The result files in the folder, a download's `.part` and `.part.json` counted with their file, and their bytes (the
 * data only). A file is looked for as `.part` first, then under its name: a listing taken during the rename of one
 * to the other can hold neither name, but the `.part.json` stays until after it.
 */
async function listResultFiles(directory: string): Promise<{ names: Set<string>; bytes: number }> {
  const entries = await readdir(directory).catch(() => [] as string[]);
  const names = new Set(entries.map((entry) => entry.replace(/\.part(\.json)?$/, '')));
  let bytes = 0;
  for (const name of names) {
    const size = (await stat(join(directory, `${name}.part`)).catch(() => undefined))?.size ?? (await stat(join(directory, name)).catch(() => undefined))?.size;
    bytes += size ?? 0;
  }
  return { names, bytes };
}

/**
 * Reads as the executor does, slowly, and looks at the downloads folder at every line: the other jobs' downloads
 * would pile up there meanwhile if nothing held them back.
 */
function createWatchingReader(directory: string, seen: { most: number; mostBytes?: number }): ResultLineReader {
  return async function* (path) {
    for await (const line of readResultLines(path)) {
      const present = await listResultFiles(directory);
      seen.most = Math.max(seen.most, present.names.size);
      seen.mostBytes = Math.max(seen.mostBytes ?? 0, present.bytes);
      await new Promise((resolve) => setTimeout(resolve, 5));
      yield line;
    }
  };
}

describe('result files on disk', () => {
  it('gives a place back to the earliest waiter, never to a caller that came after the release', async () => {
    const gate = createResultFileGate({ maxFiles: 1, readFreeBytes: async () => Number.MAX_SAFE_INTEGER });
    const first = await gate.acquire();
    const order: string[] = [];
    const early = gate.acquire().then((slot) => (order.push('early'), slot));
    first.release();
    const late = gate.acquire().then((slot) => (order.push('late'), slot));
    (await early).release();
    (await late).release();
    expect(order).toEqual(['early', 'late']);
  });

  it('keeps at most maxResultFilesOnDisk result files on disk, read then deleted, while several jobs finish at once', async () => {
    fixture = await createGeminiFixture();
    const directory = join(fixture.workspaceDirectory, 'downloads', 'analyze');
    const seen = { most: 0 };
    const executor = fixture.createBatchExecutor({ settings: { chunkMaxLines: 5, maxJobsInFlight: 8, maxResultFilesOnDisk: 2 }, readResults: createWatchingReader(directory, seen) });
    const report = await executor.execute({ stage: 'analyze', model, lines: createTextLines(40) });
    expect([...report.outcomes.values()].filter((outcome) => outcome.status === 'succeeded')).toHaveLength(40);
    expect(report.jobsCreated).toBe(8);
    // Two at once were seen (so the bound was reached, with eight jobs ending together), never three.
    expect(seen.most).toBe(2);
    expect((await listResultFiles(directory)).names.size).toBe(0);
  });

  it('waits for a read file to be deleted when the disk is short, and never holds more than the disk has room for', async () => {
    fixture = await createGeminiFixture();
    const directory = join(fixture.workspaceDirectory, 'downloads', 'analyze');
    // The same lines once under another stage, to size the pretend disk: room for one and a half of the largest
    // result file (answers vary in length, so two small ones may fit at once; three never do).
    const sizes: number[] = [];
    const sizingReader: ResultLineReader = async function* (path) {
      sizes.push((await stat(path)).size);
      yield* readResultLines(path);
    };
    await fixture.createBatchExecutor({ settings: { chunkMaxLines: 5 }, readResults: sizingReader }).execute({ stage: 'sizing', model, lines: createTextLines(30) });
    expect(sizes).toHaveLength(6);
    expect(Math.min(...sizes) * 3).toBeGreaterThan(Math.max(...sizes) * 1.5);
    const capacity = Math.floor(Math.max(...sizes) * 1.5);
    const readFreeBytes = async () => capacity - (await listResultFiles(directory)).bytes;
    const seen = { most: 0, mostBytes: 0 };
    const executor = fixture.createBatchExecutor({
      settings: { chunkMaxLines: 5, maxJobsInFlight: 8 },
      readResults: createWatchingReader(directory, seen),
      resultFileGate: createResultFileGate({ maxFiles: 4, readFreeBytes }),
    });
    const report = await executor.execute({ stage: 'analyze', model, lines: createTextLines(30) });
    expect([...report.outcomes.values()].filter((outcome) => outcome.status === 'succeeded')).toHaveLength(30);
    // Four places and eight jobs ending together: without the check of room, four files would be there at once.
    expect(seen.mostBytes).toBeLessThanOrEqual(capacity);
    expect(seen.most).toBeLessThanOrEqual(2);
  });

  it('stops the run with one line saying how much room is needed and where, when a result file can never fit; a rerun pays nothing again', async () => {
    fixture = await createGeminiFixture();
    const lines = createTextLines(10);
    const full = fixture.createBatchExecutor({ settings: { chunkMaxLines: 5 }, resultFileGate: createResultFileGate({ maxFiles: 2, readFreeBytes: async () => 100 }) });
    const error = await full.execute({ stage: 'analyze', model, lines }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DiskFullError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(new RegExp(`^Not enough disk space in ${join(fixture.workspaceDirectory, 'downloads', 'analyze').replace(/[\\/.]/g, '\\$&')} for files/batch-\\S+: it needs [\\d,]+ bytes, 100 bytes are free\\. Free some space there, then run again \\(finished work is kept\\)\\.$`));
    expect(exitCodeFor(error as Error)).toBe(1);
    const created = (await fixture.emulator.stats())['batchesCreated'];
    expect(created).toBe(2);

    const again = await fixture.createBatchExecutor({ settings: { chunkMaxLines: 5 } }).execute({ stage: 'analyze', model, lines });
    expect([...again.outcomes.values()].filter((outcome) => outcome.status === 'succeeded')).toHaveLength(10);
    expect((await fixture.emulator.stats())['batchesCreated']).toBe(created);
    expect(again.jobsAdopted + again.jobsCreated).toBe(0);
  });
});
