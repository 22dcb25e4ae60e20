/**
 * Peak RSS of `chargen run` against the input's size: for each count, N distinct small PNGs run through every stage
 * on a `chargen emulator` child process (no faults, short latencies), one run each, measured by GNU time (or VmHWM).
 * The goal of issue 17: the largest count's peak within 1.2× of the smallest's (memory must not grow per image).
 *
 * Run: npm run bench:rss -- [--images 2000,20000] [--chunk-lines 1000] [--chargen /other/checkout/bin/chargen.js]
 *      [--storage-budget-bytes N] [--node-options="--heap-prof --heap-prof-dir=/tmp/heap"] [--keep]
 * Each run also reports the most bytes the emulator's Files storage held at once (against the budget, which
 * `--storage-budget-bytes` sets small enough to bind: the sample images are small) and the database's size.
 * `--chargen` measures another checkout's CLI with the same images and emulator (main against a branch, say).
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createInputImages, createProject } from './soak/run-chargen.ts';
import { startEmulator } from './soak/soak-emulator.ts';
import { apiKey, chargenBinary, rssMethod } from './soak/soak-settings.ts';
import { spawnMeasured } from './soak/spawn-measured.ts';

interface Measurement {
  images: number;
  /** The last line the run had printed when its RSS (sampled every 250 ms) was highest: which phase holds the peak. */
  peakDuring: string;
  code: number | undefined;
  seconds: number;
  peakRssMegabytes: number;
  jobsCreated: number;
  peakFilesStorageBytes: number;
  storageBudgetBytes: number | undefined;
  /** The workspace's SQLite files (databases, WAL and shared memory) after the run, and the whole workspace. */
  databaseBytes: number;
  workspaceBytes: number;
}

/** Bytes under a folder, and those of its SQLite files (`*.sqlite`, `*.sqlite-wal`, `*.sqlite-shm`). */
async function measureFolder(directory: string): Promise<{ totalBytes: number; databaseBytes: number }> {
  let totalBytes = 0;
  let databaseBytes = 0;
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const { size } = await stat(join(entry.parentPath, entry.name));
    totalBytes += size;
    if (/\.sqlite(-wal|-shm)?$/.test(entry.name)) databaseBytes += size;
  }
  return { totalBytes, databaseBytes };
}

function readRssKilobytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function measureOne(options: { root: string; count: number; chunkLines: number; binary: string; nodeOptions: string; storageBudgetBytes: number | undefined }): Promise<Measurement> {
  const emulator = await startEmulator({ directory: join(options.root, `emulator-${options.count}`), faultsPath: join(options.root, 'faults.json') });
  try {
    const images = createInputImages({ count: options.count, seed: `rss-${options.count}` });
    const project = await createProject({ root: options.root, name: `project-${options.count}`, images, chunkLines: options.chunkLines });
    if (options.storageBudgetBytes !== undefined) {
      const configPath = join(project.directory, 'chargen.config.json');
      const config = JSON.parse(await readFile(configPath, 'utf8')) as { gemini: Record<string, unknown> };
      config.gemini['storageBudgetBytes'] = options.storageBudgetBytes;
      await writeFile(configPath, JSON.stringify(config, null, 2));
    }
    const env = { ...process.env, GEMINI_API_KEY: apiKey, GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl, NO_COLOR: '1', NODE_OPTIONS: options.nodeOptions };
    const startedAt = performance.now();
    let lastLine = '(start-up)';
    let lastStageLine = '';
    const spawned = spawnMeasured({
      args: [options.binary, 'run', '--yes', '--json', '--poll-interval', '200'],
      cwd: project.directory,
      env,
      statsFile: join(options.root, `run-${options.count}.time`),
      onStderrLine: (line) => {
        lastLine = /^(analyze|compile|synthesize|contact sheet):/.test(line) ? line : `${lastStageLine} … ${line}`;
        if (/^(analyze|compile|synthesize|contact sheet):/.test(line)) lastStageLine = line;
      },
    });
    const peak = { kilobytes: 0, during: lastLine };
    const pid = await spawned.resolvePid();
    const sampler = setInterval(() => {
      const kilobytes = readRssKilobytes(pid);
      if (kilobytes !== undefined && kilobytes > peak.kilobytes) Object.assign(peak, { kilobytes, during: lastLine });
    }, 250);
    const { code, peakRssKilobytes } = await spawned.finished;
    clearInterval(sampler);
    const seconds = (performance.now() - startedAt) / 1000;
    if (code !== 0) process.stderr.write(spawned.stderrLines.slice(-20).map((line) => line.text).join('\n') + '\n');
    const stats = await emulator.readStats();
    const workspace = await measureFolder(project.workspaceDirectory);
    return {
      images: options.count,
      peakDuring: peak.during.slice(0, 160),
      code,
      seconds,
      peakRssMegabytes: Math.round(peakRssKilobytes / 1024),
      jobsCreated: stats.batchesCreated,
      peakFilesStorageBytes: stats.peakUploadedBytesHeld,
      storageBudgetBytes: options.storageBudgetBytes,
      databaseBytes: workspace.databaseBytes,
      workspaceBytes: workspace.totalBytes,
    };
  } finally {
    await emulator.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '2000,20000' },
      'chunk-lines': { type: 'string', default: '1000' },
      chargen: { type: 'string' },
      'node-options': { type: 'string', default: '' },
      keep: { type: 'boolean', default: false },
      'storage-budget-bytes': { type: 'string' },
    },
  });
  const counts = values.images.split(',').map(Number);
  if (counts.some((count) => !Number.isInteger(count) || count < 1)) throw new Error('--images takes positive integers separated by commas');
  const storageBudgetBytes = values['storage-budget-bytes'] === undefined ? undefined : Number(values['storage-budget-bytes']);
  if (storageBudgetBytes !== undefined && !(Number.isInteger(storageBudgetBytes) && storageBudgetBytes >= 1024)) throw new Error('--storage-budget-bytes takes an integer of at least 1024');
  const binary = values.chargen ? resolve(values.chargen) : chargenBinary;
  const root = await mkdtemp(join(tmpdir(), 'chargen-rss-'));
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'faults.json'), JSON.stringify({ seed: 'rss' }));
  const results: Measurement[] = [];
  try {
    for (const count of counts) {
      process.stderr.write(`${count} images with ${binary}…\n`);
      const measured = await measureOne({ root, count, chunkLines: Number(values['chunk-lines']), binary, nodeOptions: values['node-options'], storageBudgetBytes });
      process.stderr.write(`  exit ${measured.code}, ${measured.seconds.toFixed(1)} s, peak RSS ${measured.peakRssMegabytes} MB, ${measured.jobsCreated} jobs, Files storage peak ${measured.peakFilesStorageBytes} B, database ${measured.databaseBytes} B; peak after "${measured.peakDuring}"\n`);
      results.push(measured);
    }
  } finally {
    if (!values.keep) await rm(root, { recursive: true, force: true });
    else process.stderr.write(`kept ${root}\n`);
  }
  const smallest = results[0];
  const largest = results.at(-1);
  const ratio = smallest && largest ? largest.peakRssMegabytes / smallest.peakRssMegabytes : undefined;
  process.stdout.write(`${JSON.stringify({ binary, rssMethod, results, ratioLargestToSmallest: ratio !== undefined ? Number(ratio.toFixed(2)) : undefined }, null, 2)}\n`);
}

await main();
