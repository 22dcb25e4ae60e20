/**
 * Streaming result reader throughput: a ~400 MB result file of 10 MB-base64 image lines, read by
 * createStreamingResultReader, against a baseline measured in the same run on the same base64 (read in 1 MiB chunks,
 * Buffer.from(…, 'base64'), written to one file per image: the floor of what decoding to disk can cost).
 * Run: npx tsx bench/stream-result-lines-probe.ts   (BENCH_LINES=40 BENCH_ROUNDS=2 to change the size)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createStreamingResultReader } from '../lib/gemini/stream-result-lines.ts';

const lineCount = Number(process.env['BENCH_LINES'] ?? 40);
const roundCount = Number(process.env['BENCH_ROUNDS'] ?? 2);
const imageBytes = 7_500_000;
const chunkBytes = 1024 * 1024;

const directory = await mkdtemp(join(tmpdir(), 'chargen-stream-probe-'));
const resultPath = join(directory, 'results.jsonl');
const base64Path = join(directory, 'images.b64');

/** Written from one image buffer, patched per line, so that making the input does not raise the memory high-water mark. */
async function writeInputs(): Promise<number> {
  const image = randomBytes(imageBytes);
  const base64 = Buffer.from(image.toString('base64'), 'latin1');
  const results = await open(resultPath, 'w');
  const base64Lines = await open(base64Path, 'w');
  const newline = Buffer.from('\n');
  for (let index = 0; index < lineCount; index += 1) {
    // A distinct first group of three bytes per line gives every image its own hash.
    base64.write(Buffer.from([index >> 16, (index >> 8) & 0xff, index & 0xff]).toString('base64'), 0, 'latin1');
    const head = `{"key":"line-${index}","response":{"candidates":[{"content":{"role":"model","parts":[{"text":"Here is the character."},{"inlineData":{"mimeType":"image/png","data":"`;
    const tail = `"}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":1290,"candidatesTokenCount":1120,"totalTokenCount":2410},"modelVersion":"gemini-3-pro-image"}}\n`;
    await results.writev([Buffer.from(head), base64, Buffer.from(tail)]);
    await base64Lines.writev([base64, newline]);
  }
  await results.close();
  await base64Lines.close();
  return base64.length * lineCount;
}

/** The same work without any JSON: cut the base64 at newlines, decode whole groups of four, write each image to a file. */
async function runBaseline(outputDirectory: string): Promise<void> {
  const input = await open(base64Path, 'r');
  const chunk = Buffer.allocUnsafe(chunkBytes);
  let output = await open(join(outputDirectory, 'image-0'), 'w');
  let imageIndex = 0;
  let carry = '';
  for (;;) {
    const { bytesRead } = await input.read(chunk, 0, chunkBytes, null);
    if (bytesRead === 0) break;
    let position = 0;
    while (position < bytesRead) {
      const newline = chunk.indexOf(0x0a, position);
      const end = newline < 0 || newline >= bytesRead ? bytesRead : newline;
      const text = carry + chunk.toString('latin1', position, end);
      const whole = end === newline ? text.length : text.length & ~3;
      await output.write(Buffer.from(text.slice(0, whole), 'base64'));
      carry = text.slice(whole);
      position = end;
      if (end === newline) {
        await output.close();
        imageIndex += 1;
        output = await open(join(outputDirectory, `image-${imageIndex}`), 'w');
        position += 1;
      }
    }
  }
  await output.close();
  await input.close();
}

async function runReader(outputDirectory: string): Promise<void> {
  const reader = createStreamingResultReader({ blobDirectory: outputDirectory, chunkBytes });
  let responses = 0;
  for await (const line of reader(resultPath)) {
    if (line.kind !== 'response') throw new Error(`line not read: ${JSON.stringify(line)}`);
    responses += 1;
  }
  if (responses !== lineCount) throw new Error(`read ${responses} of ${lineCount} lines`);
}

async function measure(run: (outputDirectory: string) => Promise<void>): Promise<number> {
  const outputDirectory = join(directory, 'output');
  await rm(outputDirectory, { recursive: true, force: true });
  await mkdir(outputDirectory);
  const started = performance.now();
  await run(outputDirectory);
  const seconds = (performance.now() - started) / 1000;
  await rm(outputDirectory, { recursive: true, force: true });
  return seconds;
}

try {
  const base64Bytes = await writeInputs();
  const maxRSSAfterInputs = process.resourceUsage().maxRSS;
  let baselineSeconds = Number.POSITIVE_INFINITY;
  let readerSeconds = Number.POSITIVE_INFINITY;
  // Alternating rounds, best of each: both see the same page cache and the same background noise.
  for (let round = 0; round < roundCount; round += 1) {
    baselineSeconds = Math.min(baselineSeconds, await measure(runBaseline));
    readerSeconds = Math.min(readerSeconds, await measure(runReader));
  }
  const megabytes = base64Bytes / 1e6;
  const readerRate = megabytes / readerSeconds;
  const baselineRate = megabytes / baselineSeconds;
  process.stdout.write(
    `${JSON.stringify(
      {
        lines: lineCount,
        base64MB: Number(megabytes.toFixed(1)),
        readerSeconds: Number(readerSeconds.toFixed(3)),
        baselineSeconds: Number(baselineSeconds.toFixed(3)),
        readerMBPerSecond: Math.round(readerRate),
        baselineMBPerSecond: Math.round(baselineRate),
        ratioToBaseline: Number((readerRate / baselineRate).toFixed(3)),
        maxRSSAfterInputsMiB: Math.round(maxRSSAfterInputs / 1024),
        maxRSSMiB: Math.round(process.resourceUsage().maxRSS / 1024),
        node: process.version,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await rm(directory, { recursive: true, force: true });
}
