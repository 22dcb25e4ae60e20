import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { encodePng } from '../../emulator/png/encode-png.ts';
import { chargenBinary } from '../support/chargen-process.ts';

// A --json summary of thousands of outputs is megabytes; process.exit once dropped all but the first 64 KiB of it when
// the reader of the pipe was slower than chargen (seen in the soak). The reader here waits a second before reading.
it('prints a --json summary larger than a pipe buffer whole, even to a slow reader', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'chargen-large-output-'));
  try {
    const data = encodePng({ width: 8, height: 8, seed: 'tiny' }).toString('base64');
    const lines = Array.from({ length: 300 }, (_unused, index) =>
      JSON.stringify({ key: `${'k'.repeat(900)}-${index}`, response: { candidates: [{ content: { parts: [{ inlineData: { mimeType: 'image/png', data } }] }, finishReason: 'STOP' }] } }),
    );
    await writeFile(join(folder, 'results.jsonl'), `${lines.join('\n')}\n`);
    const child = spawn(process.execPath, [chargenBinary, 'extract', 'results.jsonl', '--out', 'out', '--json'], { cwd: folder, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.pause();
    await delay(1_000);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = once(child.stdout, 'end');
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.stdout.resume();
    const [[code]] = await Promise.all([exited, ended]);
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text.length).toBeGreaterThan(256 * 1024);
    expect(code).toBe(0);
    expect((JSON.parse(text) as { written: unknown[] }).written).toHaveLength(300);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
