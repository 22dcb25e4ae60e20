import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../lib/store/atomic-file.ts';

describe('writeFileAtomic with content in pieces', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'chargen-atomic-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes every piece in order, across many write batches, and ends with the same text as the pieces joined', async () => {
    const path = join(directory, 'lines.jsonl');
    const asked: number[] = [];
    // 3,000 lines of 1 KB: about twelve batches.
    function* lines(): Generator<string> {
      for (let index = 0; index < 3_000; index += 1) {
        asked.push(index);
        yield `${String(index).padStart(1_023, '-')}\n`;
      }
    }
    await writeFileAtomic(path, lines());
    const text = await readFile(path, 'utf8');
    expect(text.length).toBe(3_000 * 1_024);
    expect(text.split('\n').slice(0, -1).map((line) => Number(line.replaceAll('-', '')))).toEqual(asked);
  });

  it('leaves the old file and no temporary file when making a piece fails half way', async () => {
    const path = join(directory, 'lines.jsonl');
    await writeFile(path, 'old\n');
    function* failing(): Generator<string> {
      for (let index = 0; index < 1_000; index += 1) yield `${'x'.repeat(1_000)}\n`;
      throw new Error('line 1001 is broken');
    }
    await expect(writeFileAtomic(path, failing())).rejects.toThrow('line 1001 is broken');
    expect(await readFile(path, 'utf8')).toBe('old\n');
    expect(await readdir(directory)).toEqual(['lines.jsonl']);
  });
});
