import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { expect, it } from 'vitest';
import { encodePng } from '../../emulator/png/encode-png.ts';
import { chargenBinary, runNodeProcess } from '../support/chargen-process.ts';

function createImageLine(key: string): string {
  const data = encodePng({ width: 16, height: 16, seed: key }).toString('base64');
  return JSON.stringify({ key, response: { candidates: [{ content: { parts: [{ inlineData: { mimeType: 'image/png', data } }] }, finishReason: 'STOP' }] } });
}

// A result line of 100 MB that is not image data (a runaway text part) must not be held in memory, nor stop the file.
it('names a 100 MB text line as a failure and still writes the images around it', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'chargen-huge-line-'));
  try {
    const file = createWriteStream(join(folder, 'results.jsonl'));
    file.write(`${createImageLine('before')}\n`);
    file.write('{"key":"huge","response":{"candidates":[{"content":{"parts":[{"text":"');
    const block = 'a'.repeat(1024 * 1024);
    for (let megabyte = 0; megabyte < 100; megabyte += 1) file.write(block);
    file.write('"}]},"finishReason":"STOP"}]}}\n');
    file.write(`${createImageLine('after')}\n`);
    file.end();
    await finished(file);

    const result = await runNodeProcess({ cwd: folder, args: [chargenBinary, 'extract', 'results.jsonl', '--out', 'out', '--json'] });
    expect(result.code, result.stderr).toBe(3);
    const summary = JSON.parse(result.stdout) as { written: { key: string }[]; failures: { line: number; reason: string }[] };
    expect(summary.written.map((entry) => entry.key)).toEqual(['before', 'after']);
    expect(summary.failures).toEqual([expect.objectContaining({ line: 2, reason: expect.stringMatching(/\S/) })]);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect((await readdir(join(folder, 'out'))).sort()).toEqual(['after.json', 'after.png', 'before.json', 'before.png']);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
