/**
 * Stragglers: `chargen run` over a few images in small chunks against a `chargen emulator` child whose first analysis
 * job stays PENDING (the STUCK_PENDING fault), jobs PENDING 3 s and RUNNING 6 s. Each chargen given (this checkout's
 * by default; add another checkout's bin/chargen.js with --baseline) runs in a project of its own against the same
 * emulator, reset to the same fault, and is stopped after --limit seconds. Per run: wall time, images made, batch jobs
 * created and cancelled (the emulator's counters), and the exit code.
 * Run: npx tsx bench/stragglers.ts [--images 8] [--chunk-lines 2] [--limit 90] [--baseline /work/main/bin/chargen.js]
 *                                  [--healthy]   (this checkout once more with no stuck job, for reference)
 *
 * On this checkout the built-in deadline against an emulator on this machine is 20 s
 * (gemini.pendingDeadlineMilliseconds), so the stuck job is cancelled 20 s after it was submitted and replaced.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { chargenBinary, startEmulatorProcess } from '../test/support/chargen-process.ts';
import { createEmulatorAdmin } from '../test/support/emulator-admin.ts';
import { createSamplePng } from '../test/support/sample-images.ts';

const apiKey = 'bench-key-stragglers';

interface Measured {
  chargen: string;
  stuck: boolean;
  seconds: number;
  images: number;
  jobsCreated: number;
  jobsCancelled: number;
  exit: string;
}

function readNumber(stats: object, field: string): number {
  const value = (stats as Record<string, unknown>)[field];
  return typeof value === 'number' ? value : 0;
}

async function createProject(options: { images: number; chunkLines: number }): Promise<string> {
  const project = await mkdtemp(join(tmpdir(), 'chargen-bench-stragglers-'));
  await mkdir(join(project, 'input_images'));
  for (let index = 0; index < options.images; index += 1) await writeFile(join(project, 'input_images', `hero-${index}.png`), createSamplePng(`hero-${index}`));
  await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ gemini: { chunkMaxLines: options.chunkLines } }));
  return project;
}

async function runOnce(options: { chargen: string; project: string; baseUrl: string; limitSeconds: number }): Promise<{ seconds: number; exit: string }> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [options.chargen, 'run', '--yes'], {
    cwd: options.project,
    env: { ...process.env, GEMINI_API_KEY: apiKey, GOOGLE_API_KEY: '', CHARGEN_BASE_URL: options.baseUrl },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const timer = setTimeout(() => child.kill('SIGKILL'), options.limitSeconds * 1000);
  const [code, signal] = await exited;
  clearTimeout(timer);
  return { seconds: (performance.now() - startedAt) / 1000, exit: signal === 'SIGKILL' ? `stopped at ${options.limitSeconds} s` : `exit ${code}` };
}

async function runBench(): Promise<void> {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '8' },
      'chunk-lines': { type: 'string', default: '2' },
      limit: { type: 'string', default: '90' },
      baseline: { type: 'string', multiple: true, default: [] },
      healthy: { type: 'boolean', default: false },
    },
  });
  const images = Number(values.images);
  const chunkLines = Number(values['chunk-lines']);
  const limitSeconds = Number(values.limit);
  const emulator = await startEmulatorProcess({ pendingMilliseconds: 3_000, runningMilliseconds: 6_000 });
  const admin = createEmulatorAdmin(emulator.baseUrl);
  const results: Measured[] = [];
  try {
    const plan = [...[chargenBinary, ...values.baseline].map((chargen) => ({ chargen, stuck: true })), ...(values.healthy ? [{ chargen: chargenBinary, stuck: false }] : [])];
    for (const { chargen, stuck } of plan) {
      await admin.reset();
      await admin.replaceFaults({ jobOutcomes: stuck ? [{ outcome: 'STUCK_PENDING', displayNameContains: '-analyze-', count: 1 }] : [] });
      const project = await createProject({ images, chunkLines });
      const run = await runOnce({ chargen, project, baseUrl: emulator.baseUrl, limitSeconds });
      const stats = await admin.readStats();
      const made = (await readdir(join(project, 'final_characters')).catch(() => [] as string[])).filter((name) => name.endsWith('.jpg')).length;
      results.push({ chargen, stuck, seconds: run.seconds, images: made, jobsCreated: readNumber(stats, 'batchesCreated'), jobsCancelled: readNumber(stats, 'batchesCancelled'), exit: run.exit });
      await rm(project, { recursive: true, force: true });
    }
  } finally {
    await emulator.stop();
  }
  console.log(`${images} images, chunks of ${chunkLines} lines, one analysis job STUCK_PENDING; jobs PENDING 3 s, RUNNING 6 s; limit ${limitSeconds} s`);
  for (const result of results) {
    console.log(`${result.chargen}${result.stuck ? '' : ' (no stuck job)'}: ${result.seconds.toFixed(1)} s (${result.exit}), ${result.images}/${images} images, ${result.jobsCreated} jobs created, ${result.jobsCancelled} cancelled`);
  }
}

await runBench();
