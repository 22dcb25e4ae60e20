/**
 * Peak RSS of a `chargen emulator` process while objects far larger than its memory's growth go through its Cloud
 * Storage endpoint with the real client: one streamed resumable upload, one in 8 MiB chunks, one multipart, each read
 * back streamed. Object bytes must go to disk, so the peak must not follow the object's size.
 *
 * Run: npx tsx bench/storage-object-rss.ts [--megabytes 256]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Storage } from '@google-cloud/storage';

function peakRssMegabytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmHWM:')) ?? '';
  return Math.round(Number(/(\d+)/.exec(line)?.[1] ?? 0) / 1024);
}

/** `megabytes` of varied bytes, made a mebibyte at a time (the bench itself never holds the object). */
function objectSource(megabytes: number): Readable {
  let made = 0;
  return new Readable({
    read() {
      if (made === megabytes) return void this.push(null);
      const piece = Buffer.alloc(1024 * 1024, made % 251);
      made += 1;
      this.push(piece);
    },
  });
}

const { values } = parseArgs({ options: { megabytes: { type: 'string', default: '256' } } });
const megabytes = Number(values.megabytes);
const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'chargen.js'), 'emulator', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
let baseUrl = '';
for await (const line of createInterface({ input: child.stdout })) {
  baseUrl = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1] ?? '';
  if (baseUrl) break;
}
child.stdout.resume();
const pid = child.pid ?? 0;
const idle = peakRssMegabytes(pid);
const bucket = new Storage({ apiEndpoint: baseUrl, projectId: 'bench' }).bucket('bench');
const ways = [
  { name: 'streamed.bin', options: { resumable: true } },
  { name: 'chunked.bin', options: { resumable: true, chunkSize: 8 * 1024 * 1024 } },
  { name: 'multipart.bin', options: { resumable: false } },
];
for (const way of ways) {
  const file = bucket.file(way.name);
  await pipeline(objectSource(megabytes), file.createWriteStream({ ...way.options, validation: false }));
  let read = 0;
  await pipeline(file.createReadStream(), new Writable({ write: (chunk: Buffer, _encoding, done) => ((read += chunk.length), done()) }));
  if (read !== megabytes * 1024 * 1024) throw new Error(`${way.name}: read ${read} bytes`);
  process.stdout.write(`${way.name}: ${megabytes} MB up and down; emulator peak RSS so far ${peakRssMegabytes(pid)} MB\n`);
}
process.stdout.write(`emulator peak RSS: idle ${idle} MB, after 3 × ${megabytes} MB objects ${peakRssMegabytes(pid)} MB\n`);
child.kill('SIGINT');
