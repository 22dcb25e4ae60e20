import { readAnalyzeFailuresFrom } from '../../stages/analyze/analysis-checkpoint.ts';
import { readSynthesisFailuresFrom } from '../../stages/synthesize/synthesize-checkpoint.ts';
import { readCheckpointStore } from '../../lib/store/checkpoint-store.ts';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSamplePng } from '../../test/support/sample-images.ts';
import { formatCounts } from './audit-soak.ts';
import { type RunningEmulator } from './soak-emulator.ts';
import { analyzeDone, apiKey, chargenBinary, maxSettleRuns, pollIntervalMilliseconds, stageLine, synthesizePlacing } from './soak-settings.ts';
import { type MeasuredRun, type RunSummary, spawnMeasured } from './spawn-measured.ts';
// ---------------------------------------------------------------------------------------------------------------
// Projects and runs.

export interface Project {
  name: string;
  directory: string;
  inputNames: string[];
  outputDirectory: string;
  workspaceDirectory: string;
}

export async function createProject(options: { root: string; name: string; images: readonly { name: string; bytes: Buffer }[]; chunkLines: number }): Promise<Project> {
  const directory = join(options.root, options.name);
  const inputDirectory = join(directory, 'input_images');
  await mkdir(inputDirectory, { recursive: true });
  for (const image of options.images) await writeFile(join(inputDirectory, image.name), image.bytes);
  const config = { compile: { imageConfig: { aspectRatio: '1:1', imageSize: '1K' } }, gemini: { chunkMaxLines: options.chunkLines } };
  await writeFile(join(directory, 'chargen.config.json'), JSON.stringify(config, null, 2));
  return {
    name: options.name,
    directory,
    inputNames: options.images.map((image) => image.name),
    outputDirectory: join(directory, 'final_characters'),
    workspaceDirectory: join(directory, '.chargen'),
  };
}

/** N small PNGs, distinct by their bytes (checked: identical bytes would be analysed once, and the counts would lie). */
export function createInputImages(options: { count: number; seed: string }): { name: string; bytes: Buffer }[] {
  const digits = Math.max(5, String(options.count).length);
  const seen = new Set<string>();
  return Array.from({ length: options.count }, (_, index) => {
    for (let variant = 0; ; variant += 1) {
      const bytes = createSamplePng(`${options.seed}/image/${index}${variant > 0 ? `/${variant}` : ''}`);
      const hash = createHash('sha256').update(bytes).digest('hex');
      if (seen.has(hash)) continue;
      seen.add(hash);
      return { name: `image-${String(index + 1).padStart(digits, '0')}.png`, bytes };
    }
  });
}

/** Lets a Ctrl-C of the bench stop the run in flight instead of leaving it behind. */
export let stopActiveRun: (() => Promise<void>) | undefined;

export async function runChargen(options: {
  project: Project;
  label: string;
  args: string[];
  emulator: RunningEmulator;
  statsDirectory: string;
  /** When to SIGKILL it: a time after the spawn, or after its start-up (see `startUpMilliseconds`). */
  kill?: { after: 'spawn' | 'start-up'; delayMilliseconds: number };
}): Promise<MeasuredRun> {
  const env = { ...process.env, GEMINI_API_KEY: apiKey, GOOGLE_API_KEY: '', CHARGEN_BASE_URL: options.emulator.baseUrl, NO_COLOR: '1' };
  const before = await options.emulator.readStats();
  const startedAt = performance.now();
  let lastStageLine: string | undefined;
  let startUpMilliseconds: number | undefined;
  const timers: NodeJS.Timeout[] = [];
  let killSentAtMilliseconds: number | undefined;
  const armKill = (delayMilliseconds: number) => {
    timers.push(
      setTimeout(() => {
        void kill().then((sent) => {
          if (sent) killSentAtMilliseconds = Math.round(performance.now() - startedAt);
        });
      }, delayMilliseconds),
    );
  };
  const markStartUpOver = () => {
    if (startUpMilliseconds !== undefined) return;
    startUpMilliseconds = Math.round(performance.now() - startedAt);
    if (options.kill?.after === 'start-up') armKill(options.kill.delayMilliseconds);
  };
  const spawned = spawnMeasured({
    args: [chargenBinary, ...options.args],
    cwd: options.project.directory,
    env,
    statsFile: join(options.statsDirectory, `${options.label}.time`),
    onStderrLine: (line) => {
      markStartUpOver();
      if (stageLine.test(line)) lastStageLine = line;
    },
  });
  // Analyze prints nothing while it uploads, so the emulator's counters also end the start-up: the first upload or job.
  const watcher = (async () => {
    while (startUpMilliseconds === undefined && !spawned.hasExited()) {
      const stats = await options.emulator.readStats();
      if (stats.uploads > before.uploads || stats.batchesCreated > before.batchesCreated) markStartUpOver();
      await sleep(100);
    }
  })();
  const kill = async () => {
    const pid = await spawned.resolvePid();
    if (pid === undefined || spawned.hasExited()) return false;
    try {
      process.kill(pid, 'SIGKILL');
      return true;
    } catch {
      return false;
    }
  };
  stopActiveRun = async () => void (await kill());
  if (options.kill?.after === 'spawn') armKill(options.kill.delayMilliseconds);
  const { code, signalled, peakRssKilobytes } = await spawned.finished;
  const elapsedMilliseconds = Math.round(performance.now() - startedAt);
  for (const timer of timers) clearTimeout(timer);
  await watcher;
  stopActiveRun = undefined;

  const after = await options.emulator.readStats();
  let summary: RunSummary | undefined;
  try {
    if (!signalled) summary = JSON.parse(spawned.stdout()) as RunSummary;
  } catch {
    summary = undefined;
  }
  const sent = { uploads: after.uploads - before.uploads, batchesCreated: after.batchesCreated - before.batchesCreated };
  return {
    label: options.label,
    args: options.args,
    code,
    killed: signalled,
    ...(killSentAtMilliseconds !== undefined ? { killSentAtMilliseconds } : {}),
    elapsedMilliseconds,
    peakRssKilobytes,
    stderrLines: spawned.stderrLines,
    ...(summary ? { summary } : {}),
    stdoutBytes: Buffer.byteLength(spawned.stdout()),
    sent,
    ...(startUpMilliseconds !== undefined ? { startUpMilliseconds } : {}),
    phase: describePhase({ lastStageLine, startUpOver: startUpMilliseconds !== undefined }),
  };
}

export function describePhase(options: { lastStageLine: string | undefined; startUpOver: boolean }): string {
  const line = options.lastStageLine;
  if (!options.startUpOver) return 'start-up';
  if (line === undefined) return 'analyze (uploads)';
  if (analyzeDone.test(line)) return 'compile';
  if (line.startsWith('compile: ')) return 'synthesize (jobs)';
  if (synthesizePlacing.test(line)) return 'synthesize (placing images)';
  if (line.startsWith('analyze: ')) return 'analyze (jobs)';
  return 'synthesize (jobs)';
}

export const milestones: [string, RegExp][] = [
  ['analyze jobs from', /^analyze: (batches\/\S+ submitted|adopted)/],
  ['analyze done', analyzeDone],
  ['compile done', /^compile: /],
  ['synthesize jobs done', synthesizePlacing],
];

/** When a run reached each milestone (seconds after its spawn): where its time went. */
export function describeMilestones(run: MeasuredRun): string {
  const startUp = run.startUpMilliseconds === undefined ? [] : [`start-up ${(run.startUpMilliseconds / 1000).toFixed(1)} s`];
  const reached = milestones.flatMap(([name, pattern]) => {
    const line = run.stderrLines.find((candidate) => pattern.test(candidate.text));
    return line ? [`${name} ${(line.atMilliseconds / 1000).toFixed(1)} s`] : [];
  });
  return [...startUp, ...reached].join(', ');
}

export function describeRun(run: MeasuredRun): string {
  const seconds = (run.elapsedMilliseconds / 1000).toFixed(1);
  const outcome = run.killed ? `killed at ${((run.killSentAtMilliseconds ?? run.elapsedMilliseconds) / 1000).toFixed(1)} s in ${run.phase}` : `exit ${run.code} after ${seconds} s`;
  const lines = run.summary ? ` (requests sent: ${Object.entries(run.summary.stages).map(([stage, summary]) => `${stage} ${summary.requestsSent}`).join(', ')})` : '';
  const sent = `, ${run.sent.uploads} uploads, ${run.sent.batchesCreated} jobs created${lines}`;
  const adopted = run.stderrLines.filter((line) => /adopted batches\//.test(line.text)).length;
  const reached = describeMilestones(run);
  const failures = run.failuresAfter ? `; dead letters: ${formatCounts(run.failuresAfter)}` : '';
  return `${run.label} (${run.args.slice(1).join(' ')}): ${outcome}${sent}${adopted > 0 ? `, adopted ${adopted} jobs` : ''}, peak RSS ${Math.round(run.peakRssKilobytes / 1024)} MiB${reached ? ` [${reached}]` : ''}${failures}`;
}

export interface Failure {
  stage: 'analyze' | 'synthesize';
  source: string;
  reason: string;
  retryable: boolean;
}

/** Dead letters as the checkpoints record them (read from the checkpoint database, failures only), with whether a rerun may fix them. */
export async function readFailures(project: Project): Promise<Failure[]> {
  const failures: Failure[] = [];
  const read = <T>(reader: Parameters<typeof readCheckpointStore<T>>[1]): T | undefined => {
    try {
      return readCheckpointStore(project.workspaceDirectory, reader);
    } catch {
      return undefined;
    }
  };
  // Older analysis checkpoints keep no retryable flag; their fix says "Run again…" exactly when a rerun may succeed
  // (stages/analyze/analyze-images.ts), as opposed to a refused or unreadable image.
  for (const failure of read(readAnalyzeFailuresFrom) ?? []) {
    failures.push({ stage: 'analyze', source: failure.sourcePath, reason: failure.reason, retryable: failure.retryable ?? /^Run again\b/.test(failure.fix) });
  }
  for (const failure of read(readSynthesisFailuresFrom) ?? []) failures.push({ stage: 'synthesize', source: failure.sourcePath, reason: failure.reason, retryable: failure.retryable });
  return failures;
}

/**
 * After a run that ended 3 with failures a rerun may mend: plain reruns, as the message says ("run again to retry
 * the retryable ones"), while their number drops. A plain rerun that sends nothing although such failures remain
 * (stages skipped on a current checkpoint, failures and all: the product did so before eb9bb82) is noted, and
 * `--from analyze` takes over, which recomputes every stage from the cached answers and so sends only what failed.
 */
export async function settleRetryableFailures(options: { project: Project; runs: MeasuredRun[]; run: (label: string, args: string[]) => Promise<MeasuredRun> }): Promise<{ plainRerunRetried: boolean | undefined }> {
  const { runs } = options;
  const countRetryable = async () => (await readFailures(options.project)).filter((failure) => failure.retryable).length;
  let plainRerunRetried: boolean | undefined;
  let retryable = await countRetryable();
  for (let attempt = 1; attempt <= maxSettleRuns && runs.at(-1)?.code === 3 && retryable > 0; attempt += 1) {
    const args = ['run', '--yes', '--poll-interval', String(pollIntervalMilliseconds), '--json'];
    const rerun = await options.run(`settle-${attempt}`, plainRerunRetried === false ? [...args, '--from', 'analyze'] : args);
    runs.push(rerun);
    if (plainRerunRetried === undefined) plainRerunRetried = rerun.sent.batchesCreated > 0 || rerun.sent.uploads > 0;
    const left = await countRetryable();
    if (left >= retryable && plainRerunRetried) break;
    retryable = left;
  }
  return { plainRerunRetried };
}
