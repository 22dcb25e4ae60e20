/**
 * `chargen extract` on a large result file: throughput and peak memory, against a baseline measured in the same run
 * on the same file (read in 1 MiB chunks, `Buffer.from(…, 'base64')` of the image spans, written to one file: the
 * floor of what decoding to disk costs on this machine). Both run as child processes, measured the same way.
 * Run: npm run bench:extract -- [--gigabytes 2] [--line-megabytes 40] [--rounds 2] [--keep] [--compare <checkout>]
 * --compare runs another checkout's `bin/chargen.js extract` (main's, say, as a worktree with node_modules linked) on
 * the same file in every round, measured the same way, and reports this checkout's speed against it.
 * MB and GB are decimal (10^6, 10^9 bytes). Rounds alternate baseline and extract; the table takes each side's fastest
 * round and highest peak RSS. --keep leaves the temporary folder (result file included) in place, to profile by hand.
 */
import { pollPeakRss, readTimePeakRss, timeBinary } from './measure-peak-rss.ts';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, readdir, rm, statfs, writeFile, type FileHandle } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { crc32 } from 'node:zlib';
import { encodePng } from '../emulator/png/encode-png.ts';

const megabyte = 1_000_000;
const gigabyte = 1_000_000_000;
const readChunkBytes = 1024 * 1024;
/** 3 MiB of filler bytes: a multiple of 3, so its base64 is reused verbatim for every repetition. */
const fillerBytes = 3 * 1024 * 1024;
const imageWidth = 1536;
const imageHeight = 2752;
/** Private (second letter lowercase), ancillary (first lowercase), safe to copy (last lowercase): decoders skip it. */
const fillerChunkType = 'chRg';
const chargenBinary = join(import.meta.dirname, '..', 'bin', 'chargen.js');

/** Where each image's base64 lies in the result file: the baseline decodes exactly these bytes. */
interface Base64Span {
  start: number;
  end: number;
}

interface ChildMeasurement {
  seconds: number;
  peakRssKilobytes: number;
  /** User + system CPU time, when GNU time measured it: less disturbed than wall time by other work on the machine. */
  cpuSeconds: number | undefined;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Worker mode: the baseline, run as its own process so that its memory is measured like the extract's.

async function runBaselineWorker(options: { resultFile: string; spansFile: string; outputFile: string }): Promise<void> {
  const spans = JSON.parse(await readFile(options.spansFile, 'utf8')) as Base64Span[];
  const input = await open(options.resultFile, 'r');
  const output = await open(options.outputFile, 'w');
  const chunk = Buffer.allocUnsafe(readChunkBytes);
  let fileOffset = 0;
  let spanIndex = 0;
  // Base64 decodes in groups of 4 characters; a group cut by a chunk boundary waits here for the rest.
  let carry = '';
  for (;;) {
    const { bytesRead } = await input.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) break;
    const chunkEnd = fileOffset + bytesRead;
    while (spanIndex < spans.length && spans[spanIndex]!.start < chunkEnd) {
      const span = spans[spanIndex]!;
      const from = Math.max(span.start, fileOffset) - fileOffset;
      const to = Math.min(span.end, chunkEnd) - fileOffset;
      const text = carry + chunk.toString('latin1', from, to);
      const spanEnds = span.end <= chunkEnd;
      const whole = spanEnds ? text.length : text.length & ~3;
      await writeFully(output, Buffer.from(text.slice(0, whole), 'base64'));
      carry = text.slice(whole);
      if (!spanEnds) break;
      spanIndex += 1;
    }
    fileOffset = chunkEnd;
  }
  await output.close();
  await input.close();
}

async function writeFully(handle: FileHandle, data: Buffer): Promise<void> {
  let written = 0;
  while (written < data.length) written += (await handle.write(data, written, data.length - written)).bytesWritten;
}

// ---------------------------------------------------------------------------------------------------------------
// The result file.

function createChunkHeader(options: { length: number; type: string }): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(options.length, 0);
  header.write(options.type, 4, 'latin1');
  return header;
}

function encodeUInt32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0, 0);
  return bytes;
}

/**
 * One line's parts as buffers, written in order without ever holding the image: the PNG is a real small one (its
 * IHDR says 1536×2752) with a private ancillary chunk of filler inserted after the IHDR, which brings it to the asked
 * size and keeps it a valid PNG. The bytes before the filler are padded to a multiple of 3 so that the filler's base64
 * is the same text on every repetition and is encoded once for the whole file.
 */
function* generateLineParts(options: {
  key: string;
  imageBytes: number;
  png: Buffer;
  filler: Buffer;
  fillerBase64: Buffer;
  thoughtSignature: string;
}): Generator<Buffer> {
  const { png, filler, fillerBase64 } = options;
  const afterHeader = 8 + 25;
  // Per line, so that every image has its own bytes (and hash); the length makes signature + IHDR + chunk header + label a multiple of 3.
  let label = Buffer.from(`chargen bench image ${options.key} `, 'latin1');
  const unaligned = (afterHeader + 8 + label.length) % 3;
  if (unaligned !== 0) label = Buffer.concat([label, Buffer.alloc(3 - unaligned, 0x20)]);
  const fillerTotal = Math.max(0, options.imageBytes - png.length - 12 - label.length);
  const repetitions = Math.floor(fillerTotal / filler.length);
  const remainder = fillerTotal - repetitions * filler.length - ((fillerTotal - repetitions * filler.length) % 3);
  const chunkLength = label.length + repetitions * filler.length + remainder;

  let checksum = crc32(fillerChunkType);
  checksum = crc32(label, checksum);
  for (let index = 0; index < repetitions; index += 1) checksum = crc32(filler, checksum);
  checksum = crc32(filler.subarray(0, remainder), checksum);

  const text = 'Composing the character: a three-quarter view, soft rim light, the palette from the reference. '.repeat(6).trim();
  yield Buffer.from(
    `{"key":${JSON.stringify(options.key)},"response":{"candidates":[{"content":{"role":"model","parts":[{"text":${JSON.stringify(text)},"thought":true},{"inlineData":{"mimeType":"image/png","data":"`,
    'latin1',
  );
  yield Buffer.from(Buffer.concat([png.subarray(0, afterHeader), createChunkHeader({ length: chunkLength, type: fillerChunkType }), label]).toString('base64'), 'latin1');
  for (let index = 0; index < repetitions; index += 1) yield fillerBase64;
  yield fillerBase64.subarray(0, (remainder / 3) * 4);
  yield Buffer.from(Buffer.concat([encodeUInt32(checksum), png.subarray(afterHeader)]).toString('base64'), 'latin1');
  const usage = { promptTokenCount: 1290, candidatesTokenCount: 1120, totalTokenCount: 2688, thoughtsTokenCount: 278, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 730 }, { modality: 'IMAGE', tokenCount: 560 }], candidatesTokensDetails: [{ modality: 'IMAGE', tokenCount: 1120 }] };
  yield Buffer.from(
    `"},"thoughtSignature":${JSON.stringify(options.thoughtSignature)}}]},"finishReason":"STOP","index":0}],"usageMetadata":${JSON.stringify(usage)},"modelVersion":"gemini-3-pro-image","responseId":${JSON.stringify(randomBytes(12).toString('base64url'))}}}\n`,
    'latin1',
  );
}

async function writeResultFile(options: { path: string; lineCount: number; lineBase64Bytes: number }): Promise<{ bytes: number; spans: Base64Span[] }> {
  const png = encodePng({ width: imageWidth, height: imageHeight, seed: 'bench-extract' });
  const filler = randomBytes(fillerBytes);
  const fillerBase64 = Buffer.from(filler.toString('base64'), 'latin1');
  const thoughtSignature = randomBytes(3000).toString('base64');
  const imageBytes = Math.floor((options.lineBase64Bytes / 4) * 3);
  const handle = await open(options.path, 'w');
  const spans: Base64Span[] = [];
  let offset = 0;
  try {
    for (let index = 0; index < options.lineCount; index += 1) {
      const parts = [...generateLineParts({ key: `bench/line-${String(index + 1).padStart(4, '0')}`, imageBytes, png, filler, fillerBase64, thoughtSignature })];
      const dataStart = offset + parts[0]!.length;
      const dataEnd = offset + parts.slice(0, -1).reduce((total, part) => total + part.length, 0);
      spans.push({ start: dataStart, end: dataEnd });
      for (const part of parts) {
        await writeFully(handle, part);
        offset += part.length;
      }
    }
    // On disk before any timing starts, so that neither measurement pays for this file's write-back.
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { bytes: offset, spans };
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring a child process.

/** Peak RSS by GNU time's `-v` (the kernel's ru_maxrss of the process) when present, else VmHWM polled every 50 ms. */
const rssMethod = existsSync(timeBinary) ? 'GNU time -v (ru_maxrss)' : '/proc/<pid>/status VmHWM polled every 50 ms';

async function measureChild(options: { args: string[]; statsFile: string }): Promise<ChildMeasurement> {
  const useTime = existsSync(timeBinary);
  const command = useTime ? timeBinary : process.execPath;
  const args = useTime ? ['-v', '-o', options.statsFile, process.execPath, ...options.args] : options.args;
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const poll = useTime ? undefined : pollPeakRss(child);
  const [exitCode] = (await once(child, 'exit')) as [number | null];
  const seconds = (performance.now() - started) / 1000;
  let peakRssKilobytes = poll?.stop() ?? 0;
  if (useTime) {
    const stats = await readFile(options.statsFile, 'utf8');
    peakRssKilobytes = readTimePeakRss(stats);
    const status = /Exit status: (\d+)/.exec(stats)?.[1];
    const cpuSeconds = Number(/User time \(seconds\): ([\d.]+)/.exec(stats)?.[1] ?? 0) + Number(/System time \(seconds\): ([\d.]+)/.exec(stats)?.[1] ?? 0);
    return { seconds, peakRssKilobytes, cpuSeconds, exitCode: status === undefined ? exitCode : Number(status), stdout, stderr };
  }
  return { seconds, peakRssKilobytes, cpuSeconds: undefined, exitCode, stdout, stderr };
}

/** Dirty pages of one measurement's output must not be written back during the next one. */
function flushFileSystems(): void {
  spawnSync('sync');
}

// ---------------------------------------------------------------------------------------------------------------
// The run.

interface RoundFigures {
  seconds: number;
  megabytesPerSecond: number;
  peakRssMegabytes: number;
  cpuSeconds?: number;
}

function summarise(options: { measurement: ChildMeasurement; bytes: number }): RoundFigures {
  const { measurement } = options;
  return {
    seconds: Number(measurement.seconds.toFixed(2)),
    megabytesPerSecond: Math.round(options.bytes / megabyte / measurement.seconds),
    peakRssMegabytes: Math.round((measurement.peakRssKilobytes * 1024) / megabyte),
    ...(measurement.cpuSeconds !== undefined ? { cpuSeconds: Number(measurement.cpuSeconds.toFixed(2)) } : {}),
  };
}

/** The fastest round (the one least disturbed by other work on the machine) and the highest peak RSS of all rounds. */
function pickFigures(rounds: RoundFigures[]): { megabytesPerSecond: number; peakRssMegabytes: number } {
  return { megabytesPerSecond: Math.max(...rounds.map((round) => round.megabytesPerSecond)), peakRssMegabytes: Math.max(...rounds.map((round) => round.peakRssMegabytes)) };
}

/** One `chargen extract` of the file by `binary` (this checkout's or the compared one's), checked to have written every image. */
async function measureExtract(options: { binary: string; directory: string; resultFile: string; lineCount: number; bytes: number }): Promise<RoundFigures> {
  const { directory, lineCount } = options;
  const extractOutput = join(directory, 'out');
  await mkdir(extractOutput);
  const extract = await measureChild({ args: [options.binary, 'extract', options.resultFile, '--out', extractOutput, '--json'], statsFile: join(directory, 'extract.time') });
  const summary = JSON.parse(extract.stdout || '{}') as { written?: unknown[] };
  if (extract.exitCode !== 0 || summary.written?.length !== lineCount) {
    throw new Error(`${options.binary} extract did not write every image (exit ${extract.exitCode}, ${summary.written?.length ?? 0} of ${lineCount}): ${extract.stderr.slice(0, 2000)}`);
  }
  const images = (await readdir(extractOutput)).filter((name) => name.endsWith('.png'));
  if (images.length !== lineCount) throw new Error(`expected ${lineCount} images in the output folder, found ${images.length}`);
  await rm(extractOutput, { recursive: true, force: true });
  flushFileSystems();
  return summarise({ measurement: extract, bytes: options.bytes });
}

async function runBench(): Promise<void> {
  const { values } = parseArgs({
    options: {
      gigabytes: { type: 'string', default: '2' },
      'line-megabytes': { type: 'string', default: '40' },
      rounds: { type: 'string', default: '2' },
      keep: { type: 'boolean', default: false },
      compare: { type: 'string' },
    },
  });
  const compareBinary = values.compare === undefined ? undefined : join(values.compare, 'bin', 'chargen.js');
  if (compareBinary !== undefined && !existsSync(compareBinary)) throw new Error(`--compare: no ${compareBinary}`);
  const gigabytes = Number(values.gigabytes);
  const lineMegabytes = Number(values['line-megabytes']);
  const roundCount = Number(values.rounds);
  if (!(gigabytes > 0) || !(lineMegabytes > 0)) throw new Error('--gigabytes and --line-megabytes must be positive numbers');
  if (!Number.isInteger(roundCount) || roundCount < 1) throw new Error('--rounds must be a positive integer');
  const lineBase64Bytes = Math.round(lineMegabytes * megabyte);
  const lineCount = Math.max(1, Math.round((gigabytes * gigabyte) / lineBase64Bytes));

  const directory = await mkdtemp(join(tmpdir(), 'chargen-bench-extract-'));
  // Ctrl-C must not leave gigabytes behind in the temporary folder.
  const removeOnSignal = () => {
    rmSync(directory, { recursive: true, force: true });
    process.exit(130);
  };
  process.on('SIGINT', removeOnSignal);
  process.on('SIGTERM', removeOnSignal);
  try {
    // The result file plus one set of images at a time: each measurement's output is removed before the next.
    const needed = gigabytes * gigabyte * (1 + 0.75) * 1.1;
    const space = await statfs(directory);
    const free = space.bavail * space.bsize;
    process.stderr.write(`free space in ${tmpdir()}: ${(free / gigabyte).toFixed(1)} GB; this run needs about ${(needed / gigabyte).toFixed(1)} GB\n`);
    if (free < needed) {
      process.stderr.write(`not enough free disk space in ${tmpdir()}: set TMPDIR to a folder with ${(needed / gigabyte).toFixed(1)} GB free, or pass a smaller --gigabytes\n`);
      process.exitCode = 1;
      return;
    }
    const [loadAverage] = loadavg();
    if (loadAverage !== undefined && loadAverage > availableParallelism() / 2) {
      process.stderr.write(`note: load average ${loadAverage.toFixed(1)} on ${availableParallelism()} CPUs; other work will slow both sides and scatter the figures\n`);
    }

    const resultFile = join(directory, 'results.jsonl');
    const generationStarted = performance.now();
    const { bytes, spans } = await writeResultFile({ path: resultFile, lineCount, lineBase64Bytes });
    const generationSeconds = (performance.now() - generationStarted) / 1000;
    process.stderr.write(`wrote ${(bytes / gigabyte).toFixed(2)} GB (${lineCount} lines) in ${generationSeconds.toFixed(1)} s\n`);
    const spansFile = join(directory, 'spans.json');
    await writeFile(spansFile, JSON.stringify(spans));

    const baselineRounds: RoundFigures[] = [];
    const extractRounds: RoundFigures[] = [];
    const compareRounds: RoundFigures[] = [];
    // Interleaved, so that a burst of other load on the machine hits both sides alike.
    for (let round = 1; round <= roundCount; round += 1) {
      const baselineOutput = join(directory, 'baseline.bin');
      const baseline = await measureChild({
        args: ['--import', 'tsx', import.meta.filename, '--baseline-worker', resultFile, spansFile, baselineOutput],
        statsFile: join(directory, 'baseline.time'),
      });
      if (baseline.exitCode !== 0) throw new Error(`the baseline failed (exit ${baseline.exitCode}): ${baseline.stderr}`);
      await rm(baselineOutput, { force: true });
      flushFileSystems();
      baselineRounds.push(summarise({ measurement: baseline, bytes }));

      extractRounds.push(await measureExtract({ binary: chargenBinary, directory, resultFile, lineCount, bytes }));
      if (compareBinary !== undefined) compareRounds.push(await measureExtract({ binary: compareBinary, directory, resultFile, lineCount, bytes }));
      process.stderr.write(
        `round ${round}: baseline ${JSON.stringify(baselineRounds.at(-1))}, extract ${JSON.stringify(extractRounds.at(-1))}${compareBinary !== undefined ? `, compared ${JSON.stringify(compareRounds.at(-1))}` : ''}\n`,
      );
    }

    const baseline = pickFigures(baselineRounds);
    const extract = pickFigures(extractRounds);
    const ratio = extract.megabytesPerSecond / baseline.megabytesPerSecond;
    const figures = {
      resultFileGigabytes: Number((bytes / gigabyte).toFixed(2)),
      lines: lineCount,
      lineMegabytesOfBase64: lineMegabytes,
      rounds: { baseline: baselineRounds, extract: extractRounds },
      baseline,
      extract,
      extractToBaseline: Number(ratio.toFixed(3)),
      target: { peakRssUnder150Megabytes: extract.peakRssMegabytes < 150, atLeast70PercentOfBaseline: ratio >= 0.7 },
      ...(compareBinary !== undefined
        ? { compared: { checkout: values.compare, rounds: compareRounds, ...pickFigures(compareRounds), extractToCompared: Number((extract.megabytesPerSecond / pickFigures(compareRounds).megabytesPerSecond).toFixed(3)) } }
        : {}),
      peakRssMeasuredBy: rssMethod,
      node: process.version,
    };
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n\n`);
    process.stdout.write('| result file | baseline | chargen extract | extract / baseline | measured |\n|---|---|---|---|---|\n');
    process.stdout.write(
      `| ${figures.resultFileGigabytes} GB, ${lineCount} lines of ${lineMegabytes} MB base64 | ${baseline.megabytesPerSecond} MB/s, ${baseline.peakRssMegabytes} MB peak RSS | ${extract.megabytesPerSecond} MB/s, ${extract.peakRssMegabytes} MB peak RSS | ${(ratio * 100).toFixed(0)} % | best of ${roundCount} rounds; peak RSS by ${rssMethod}; Node ${process.version}, ${availableParallelism()} CPUs |\n`,
    );
    if (figures.compared !== undefined) {
      const compared = figures.compared;
      process.stdout.write(
        `\nthis checkout: ${extract.megabytesPerSecond} MB/s, ${extract.peakRssMegabytes} MB peak RSS; ${compared.checkout}: ${compared.megabytesPerSecond} MB/s, ${compared.peakRssMegabytes} MB peak RSS (${(compared.extractToCompared * 100).toFixed(0)} %)\n`,
      );
    }
  } finally {
    if (values.keep) process.stderr.write(`kept ${directory}\n`);
    else await rm(directory, { recursive: true, force: true });
    process.off('SIGINT', removeOnSignal);
    process.off('SIGTERM', removeOnSignal);
  }
}

const workerIndex = process.argv.indexOf('--baseline-worker');
if (workerIndex >= 0) {
  const [resultFile, spansFile, outputFile] = process.argv.slice(workerIndex + 1);
  if (!resultFile || !spansFile || !outputFile) throw new Error('--baseline-worker <result file> <spans file> <output file>');
  await runBaselineWorker({ resultFile, spansFile, outputFile });
} else {
  await runBench();
}
