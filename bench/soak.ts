/**
 * Soak: `chargen run` over N distinct images against a faulty `chargen emulator` child process, SIGKILLed K times at
 * seeded random moments and run again each time, until a run ends (exit 0 or 3) and a last rerun of the retryable
 * failures settles. Then it is audited: every input has exactly one image and one sidecar (or was dead-lettered for a
 * reason a rerun cannot fix), no chunk got a second batch job, and what was dead-lettered, and why.
 * Run: npm run bench:soak -- [--images 10000] [--kills 50] [--seed soak-1] [--chunk-lines 1000]
 *                            [--skip-baseline --expected-seconds <s>] [--keep]
 *
 * Faults are the CI fault suite's (test/reliability/faults.test.ts): 30% of the calls to every endpoint answered 429
 * (with RetryInfo, 1 s) or 503, 10% of the batch lines answered INTERNAL, one analyze job EXPIRED, one synthesize job
 * FAILED, one result download cut. Jobs are PENDING 250 ms and RUNNING 1 s; images are 1K squares.
 *
 * Baseline (same run): the same images, in a project of their own, run to the end with no kill against the same
 * emulator, reset to the same faults. Its working time also places the kills: about one in ten lands in a run's
 * start-up, the others at moments uniform over that working time, each counted from a run's start-up, so that they
 * land in every phase of the pipeline and not only in its first minutes (see planKills).
 *
 * Not exactly replayable: the seed fixes the images, the fault dice and the kill delays, but upload concurrency,
 * retry and poll jitter and the emulator's background work decide which call draws which fault and how far a run has
 * got when its kill fires. Peak RSS is GNU time -v's (the kernel's ru_maxrss, killed runs included) when
 * /usr/bin/time exists, else VmHWM polled every 50 ms.
 */
import type { JobRecord } from '../lib/gemini/job-record.ts';
import { openWorkspace } from '../lib/store/open-workspace.ts';
import { readAnalysisCheckpoint } from '../stages/analyze/analysis-checkpoint.ts';
import { readImageSidecar } from '../stages/synthesize/image-sidecar.ts';
import { readSynthesizeCheckpoint } from '../stages/synthesize/synthesize-checkpoint.ts';
import { contactSheetFileName } from '../stages/synthesize/write-contact-sheet.ts';
import { readWorkspaceJobRecords } from '../test/support/read-workspace-job-records.ts';
import { pollPeakRss, readTimePeakRss, timeBinary } from './measure-peak-rss.ts';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createSeededRandom } from '../test/support/kill-schedule.ts';
import { createSamplePng } from '../test/support/sample-images.ts';
import type { RunJsonSummary } from '../pipeline/cli/run-command.ts';
import { createCiFaults } from '../test/support/ci-faults.ts';
import { createEmulatorAdmin, type EmulatorStats, type ListedJob } from '../test/support/emulator-admin.ts';

const chargenBinary = join(import.meta.dirname, '..', 'bin', 'chargen.js');
const useTime = existsSync(timeBinary);
const rssMethod = useTime ? 'GNU time -v (ru_maxrss)' : '/proc/<pid>/status VmHWM polled every 50 ms';
const apiKey = 'soak-bench-key-for-the-emulator-41c7';
const analyzeModel = 'gemini-3-flash-preview';
const imageModel = 'gemini-3-pro-image';
const emulatorLatency = { pendingMilliseconds: 250, runningMilliseconds: 1_000 };
const pollIntervalMilliseconds = 200;
/** Unkilled runs ending other than 0, 3 or 4 after which the series stops: a rerun that fails thrice will not recover. */
const maxFailedReruns = 3;
/** Unkilled runs ending 4 (a job left to the next run) that are simply run again. */
const maxHeldRuns = 5;
/** Reruns tried after the series ends 3, while retryable failures remain and their number still drops. */
const maxSettleRuns = 3;
/** The share of kills aimed at a run's start-up rather than at its work. */
const startUpKillShare = 0.1;

const stageLine = /^(analyze|compile|synthesize): /;
const analyzeDone = /^analyze: (\d+ distinct images?|\d+ records? unchanged)/;
const synthesizePlacing = /^synthesize: \d+ images/;

/** Each fault the emulator injects, by the words a dead-letter reason carries when that fault caused it. */
const reasonCategories: [string, RegExp][] = [
  ['line error 13 INTERNAL', /error 13 INTERNAL/],
  ['job EXPIRED', /ended JOB_STATE_EXPIRED/],
  ['job FAILED', /ended JOB_STATE_FAILED/],
  ['upload failed beyond retries (429/503)', /^upload failed/],
  ['cut download', /download of files\/batch-/],
  ['job left to the next run (its polls failed beyond retries)', /could not be followed/],
  ['endpoint 429/503 beyond retries', /RESOURCE_EXHAUSTED|UNAVAILABLE|\b429\b|\b503\b/],
];

// ---------------------------------------------------------------------------------------------------------------
// Child processes, measured.

type RunSummary = RunJsonSummary;

/** A line a run printed, with when (milliseconds after its spawn): the phases of a run and the story of a finding. */
interface TimedLine {
  atMilliseconds: number;
  text: string;
}

interface MeasuredRun {
  label: string;
  args: string[];
  /** The exit code; undefined when a signal ended it. */
  code: number | undefined;
  killed: boolean;
  /** Milliseconds after the spawn at which the planned kill was sent, when it was. */
  killSentAtMilliseconds?: number;
  elapsedMilliseconds: number;
  peakRssKilobytes: number;
  stderrLines: TimedLine[];
  /** The `--json` summary, when it ended with one that parses. */
  summary?: RunSummary;
  /** Bytes on stdout: a summary that does not parse is told apart from none by its length. */
  stdoutBytes: number;
  /** What the emulator counted while it ran: whether a rerun sent anything, whatever its stdout says. */
  sent: { uploads: number; batchesCreated: number };
  /**
   * Spawn to its first sign of work: a progress line, an upload or a job created. Before it a run loads its code,
   * scans and hashes the inputs and reads its caches, which every rerun does again.
   */
  startUpMilliseconds?: number;
  /** Dead letters in the checkpoints once it ended, by stage and cause (not read after a kill). */
  failuresAfter?: Record<string, number>;
  /** Where the run was when it ended or was killed, from its progress lines and the emulator's upload counter. */
  phase: string;
}

/** The process `/usr/bin/time` started (its only child), once it exists. */
async function findChildPid(parentPid: number, hasExited: () => boolean): Promise<number | undefined> {
  for (let attempt = 0; attempt < 400 && !hasExited(); attempt += 1) {
    const text = await readFile(`/proc/${parentPid}/task/${parentPid}/children`, 'utf8').catch(() => '');
    const pid = Number(text.trim().split(/\s+/)[0]);
    if (pid > 0) return pid;
    await sleep(5);
  }
  return undefined;
}

interface SpawnedProcess {
  /** The Node process itself (not the `time` wrapper): the one signals go to. */
  resolvePid: () => Promise<number | undefined>;
  /** Its stdout as a stream, when asked for (`streamStdout`); otherwise it is collected for `stdout()`. */
  stdoutStream: Readable | undefined;
  stderrLines: TimedLine[];
  stdout: () => string;
  hasExited: () => boolean;
  /** Resolves once it has exited and its pipes are drained: exit code (undefined after a signal) and peak RSS. */
  finished: Promise<{ code: number | undefined; signalled: boolean; peakRssKilobytes: number }>;
}

/**
 * Runs `node <args>` under `/usr/bin/time -v` (which stays the direct child, so that a SIGKILL of the Node process
 * still leaves it to record the peak RSS), collecting stderr by line and stdout whole unless `streamStdout`.
 */
function spawnMeasured(options: { args: string[]; cwd: string; env: NodeJS.ProcessEnv; statsFile: string; streamStdout?: boolean; onStderrLine?: (line: string) => void }): SpawnedProcess {
  const command = useTime ? timeBinary : process.execPath;
  const args = useTime ? ['-v', '-o', options.statsFile, process.execPath, ...options.args] : options.args;
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  let pid: Promise<number | undefined> | undefined;
  const resolvePid = () => (pid ??= useTime ? findChildPid(child.pid ?? 0, hasExited) : Promise.resolve(child.pid));

  const poll = useTime ? undefined : pollPeakRss(child);

  const startedAt = performance.now();
  const stderrLines: TimedLine[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrLines.push({ atMilliseconds: Math.round(performance.now() - startedAt), text: line });
    options.onStderrLine?.(line);
  });
  let stdout = '';
  if (!options.streamStdout) child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));

  const finished = (async () => {
    const [exitCode, signal] = await closed;
    if (poll) return { code: exitCode ?? undefined, signalled: signal !== null, peakRssKilobytes: poll.stop() };
    const stats = await readFile(options.statsFile, 'utf8').catch(() => '');
    const peakRssKilobytes = readTimePeakRss(stats);
    // GNU time says "Command terminated by signal N" (and "Exit status: 0") when the command died of a signal.
    const signalled = /Command terminated by signal \d+/.test(stats);
    const status = /Exit status: (\d+)/.exec(stats)?.[1];
    return { code: signalled ? undefined : status !== undefined ? Number(status) : (exitCode ?? undefined), signalled, peakRssKilobytes };
  })();
  return { resolvePid, stdoutStream: options.streamStdout ? child.stdout : undefined, stderrLines, stdout: () => stdout, hasExited, finished };
}

// ---------------------------------------------------------------------------------------------------------------
// The emulator: a child process, and its admin surface.

interface RunningEmulator {
  baseUrl: string;
  stderrLines: TimedLine[];
  readStats(): Promise<EmulatorStats>;
  reset(): Promise<void>;
  listBatchJobs(): Promise<ListedJob[]>;
  /** Ctrl-C, as a user stops it: its exit code and peak RSS. */
  stop(): Promise<{ code: number | undefined; peakRssKilobytes: number }>;
}

async function startEmulator(options: { directory: string; faultsPath: string }): Promise<RunningEmulator> {
  // Its files (uploads, result files: about 100 MB per 1,000 images) go under the bench's folder, removed at the end.
  const storage = join(options.directory, 'emulator-storage');
  await mkdir(storage, { recursive: true });
  const spawned = spawnMeasured({
    args: [
      chargenBinary, 'emulator', '--port', '0',
      '--pending-ms', String(emulatorLatency.pendingMilliseconds), '--running-ms', String(emulatorLatency.runningMilliseconds),
      '--faults', options.faultsPath,
    ],
    cwd: options.directory,
    env: { ...process.env, TMPDIR: storage },
    statsFile: join(options.directory, 'emulator.time'),
    streamStdout: true,
  });
  let baseUrl = '';
  if (spawned.stdoutStream) {
    for await (const line of createInterface({ input: spawned.stdoutStream })) {
      const match = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match?.[1]) {
        baseUrl = match[1];
        break;
      }
    }
    // Keep draining its stdout, or a full pipe would stall it.
    spawned.stdoutStream.resume();
  }
  if (!baseUrl) throw new Error(`chargen emulator exited without printing its URL:\n${spawned.stderrLines.map((line) => line.text).join('\n')}`);

  const admin = createEmulatorAdmin(baseUrl);
  return {
    baseUrl,
    stderrLines: spawned.stderrLines,
    readStats: () => admin.readStats(),
    reset: () => admin.reset(),
    listBatchJobs: () => admin.listBatchJobs(apiKey),
    async stop() {
      const pid = await spawned.resolvePid();
      if (pid !== undefined && !spawned.hasExited()) process.kill(pid, 'SIGINT');
      const { code, peakRssKilobytes } = await spawned.finished;
      return { code, peakRssKilobytes };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Projects and runs.

interface Project {
  name: string;
  directory: string;
  inputNames: string[];
  outputDirectory: string;
  workspaceDirectory: string;
}

async function createProject(options: { root: string; name: string; images: readonly { name: string; bytes: Buffer }[]; chunkLines: number }): Promise<Project> {
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
function createInputImages(options: { count: number; seed: string }): { name: string; bytes: Buffer }[] {
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
let stopActiveRun: (() => Promise<void>) | undefined;

async function runChargen(options: {
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

function describePhase(options: { lastStageLine: string | undefined; startUpOver: boolean }): string {
  const line = options.lastStageLine;
  if (!options.startUpOver) return 'start-up';
  if (line === undefined) return 'analyze (uploads)';
  if (analyzeDone.test(line)) return 'compile';
  if (line.startsWith('compile: ')) return 'synthesize (jobs)';
  if (synthesizePlacing.test(line)) return 'synthesize (placing images)';
  if (line.startsWith('analyze: ')) return 'analyze (jobs)';
  return 'synthesize (jobs)';
}

const milestones: [string, RegExp][] = [
  ['analyze jobs from', /^analyze: (batches\/\S+ submitted|adopted)/],
  ['analyze done', analyzeDone],
  ['compile done', /^compile: /],
  ['synthesize jobs done', synthesizePlacing],
];

/** When a run reached each milestone (seconds after its spawn): where its time went. */
function describeMilestones(run: MeasuredRun): string {
  const startUp = run.startUpMilliseconds === undefined ? [] : [`start-up ${(run.startUpMilliseconds / 1000).toFixed(1)} s`];
  const reached = milestones.flatMap(([name, pattern]) => {
    const line = run.stderrLines.find((candidate) => pattern.test(candidate.text));
    return line ? [`${name} ${(line.atMilliseconds / 1000).toFixed(1)} s`] : [];
  });
  return [...startUp, ...reached].join(', ');
}

function describeRun(run: MeasuredRun): string {
  const seconds = (run.elapsedMilliseconds / 1000).toFixed(1);
  const outcome = run.killed ? `killed at ${((run.killSentAtMilliseconds ?? run.elapsedMilliseconds) / 1000).toFixed(1)} s in ${run.phase}` : `exit ${run.code} after ${seconds} s`;
  const lines = run.summary ? ` (requests sent: ${Object.entries(run.summary.stages).map(([stage, summary]) => `${stage} ${summary.requestsSent}`).join(', ')})` : '';
  const sent = `, ${run.sent.uploads} uploads, ${run.sent.batchesCreated} jobs created${lines}`;
  const adopted = run.stderrLines.filter((line) => /adopted batches\//.test(line.text)).length;
  const reached = describeMilestones(run);
  const failures = run.failuresAfter ? `; dead letters: ${formatCounts(run.failuresAfter)}` : '';
  return `${run.label} (${run.args.slice(1).join(' ')}): ${outcome}${sent}${adopted > 0 ? `, adopted ${adopted} jobs` : ''}, peak RSS ${Math.round(run.peakRssKilobytes / 1024)} MiB${reached ? ` [${reached}]` : ''}${failures}`;
}

interface Failure {
  stage: 'analyze' | 'synthesize';
  source: string;
  reason: string;
  retryable: boolean;
}

/** Dead letters as the checkpoints record them, with whether a rerun may fix them. */
async function readFailures(project: Project): Promise<Failure[]> {
  const failures: Failure[] = [];
  const analysis = await readAnalysisCheckpoint(project.workspaceDirectory).catch(() => undefined);
  // Older analysis checkpoints keep no retryable flag; their fix says "Run again…" exactly when a rerun may succeed
  // (stages/analyze/analyze-images.ts), as opposed to a refused or unreadable image.
  for (const failure of analysis?.failures ?? []) {
    failures.push({ stage: 'analyze', source: failure.sourcePath, reason: failure.reason, retryable: failure.retryable ?? /^Run again\b/.test(failure.fix) });
  }
  const outputs = await readSynthesizeCheckpoint(project.workspaceDirectory).catch(() => undefined);
  for (const failure of outputs?.failures ?? []) failures.push({ stage: 'synthesize', source: failure.sourcePath, reason: failure.reason, retryable: failure.retryable });
  return failures;
}

/**
 * After a run that ended 3 with failures a rerun may mend: plain reruns, as the message says ("run again to retry
 * the retryable ones"), while their number drops. A plain rerun that sends nothing although such failures remain
 * (stages skipped on a current checkpoint, failures and all: the product did so before eb9bb82) is noted, and
 * `--from analyze` takes over, which recomputes every stage from the cached answers and so sends only what failed.
 */
async function settleRetryableFailures(options: { project: Project; runs: MeasuredRun[]; run: (label: string, args: string[]) => Promise<MeasuredRun> }): Promise<{ plainRerunRetried: boolean | undefined }> {
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

// ---------------------------------------------------------------------------------------------------------------
// The audit.

interface OutputAudit {
  inputs: number;
  /** Inputs with exactly one image + sidecar pair, whole (sizes and sha256 as the sidecar says). */
  exactlyOnce: number;
  lost: string[];
  doubled: string[];
  /** Sidecars whose image is missing or is not the one described. */
  broken: string[];
  /** Images no sidecar names. */
  strayImages: string[];
  temporaryFiles: string[];
  checkpointOutputs: number;
}

function isTemporaryName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('.tmp');
}

async function auditOutputs(options: { project: Project; failures: readonly Failure[] }): Promise<OutputAudit> {
  const { project } = options;
  const names = (await readdir(project.outputDirectory).catch(() => [] as string[])).sort();
  const wholeBySource = new Map<string, number>();
  const broken: string[] = [];
  const referenced = new Set<string>();
  for (const name of names.filter((entry) => entry.endsWith('.json') && !isTemporaryName(entry))) {
    const sidecar = await readImageSidecar(join(project.outputDirectory, name));
    if (!sidecar) {
      broken.push(name);
      continue;
    }
    referenced.add(sidecar.image.file);
    const image = await readFile(join(project.outputDirectory, sidecar.image.file)).catch(() => undefined);
    const whole = image !== undefined && image.length === sidecar.image.bytes && createHash('sha256').update(image).digest('hex') === sidecar.image.sha256;
    if (!whole || !sidecar.source) {
      broken.push(name);
      continue;
    }
    wholeBySource.set(sidecar.source.path, (wholeBySource.get(sidecar.source.path) ?? 0) + 1);
  }
  const unfixable = new Set(options.failures.filter((failure) => !failure.retryable).map((failure) => failure.source));
  const checkpoint = await readSynthesizeCheckpoint(project.workspaceDirectory).catch(() => undefined);
  return {
    inputs: project.inputNames.length,
    exactlyOnce: project.inputNames.filter((input) => wholeBySource.get(input) === 1).length,
    lost: project.inputNames.filter((input) => (wholeBySource.get(input) ?? 0) === 0 && !unfixable.has(input)),
    doubled: project.inputNames.filter((input) => (wholeBySource.get(input) ?? 0) > 1),
    broken,
    strayImages: names.filter((name) => !isTemporaryName(name) && !name.endsWith('.json') && name !== contactSheetFileName && !referenced.has(name)),
    temporaryFiles: names.filter(isTemporaryName),
    checkpointOutputs: checkpoint?.outputs.length ?? 0,
  };
}

interface JobAudit {
  jobsCreated: number;
  jobsListed: number;
  distinctDisplayNames: number;
  distinctChunks: number;
  byStage: Record<string, { jobs: number; chunks: number; states: Record<string, number> }>;
  /** The same displayName (chunk fingerprint and attempt) on more than one job: a chunk submitted twice. */
  duplicateDisplayNames: string[];
  /** A chunk's next attempt created while its previous job had not ended, or after it had succeeded: paid twice. */
  secondJobs: string[];
  /** A chunk's attempt n with no job for attempt n - 1 (whose create failed for good, say): one job, not two. */
  attemptsWithoutEarlierJob: string[];
  /** Same fingerprint, next attempt, after the previous job ended FAILED/EXPIRED/…: the same lines in a new round. */
  resubmittedAfterEnd: number;
  jobsWithoutRecord: string[];
  recordsNotListed: string[];
  /** `<stage>-<fingerprint16>` of every chunk behind a finding above, to tell its story. */
  suspectChunks: string[];
  listed: ListedJob[];
  records: JobRecord[];
}

async function auditJobs(options: { project: Project; emulator: RunningEmulator; batchesCreated: number }): Promise<JobAudit> {
  const workspace = await openWorkspace({ directory: options.project.workspaceDirectory, now: Date.now, readOnly: true });
  const prefix = `chargen-${workspace.id}-`;
  const listed = (await options.emulator.listBatchJobs()).filter((job) => job.displayName.startsWith(prefix));
  const records = await readWorkspaceJobRecords(options.project.workspaceDirectory);
  const recordByName = new Map(records.map((record) => [record.displayName, record]));

  const countByDisplayName = new Map<string, number>();
  for (const job of listed) countByDisplayName.set(job.displayName, (countByDisplayName.get(job.displayName) ?? 0) + 1);
  const attemptsByChunk = new Map<string, number[]>();
  const jobByName = new Map(listed.map((job) => [job.displayName, job]));
  const byStage: JobAudit['byStage'] = {};
  for (const job of listed) {
    const match = /^chargen-[^-]+-(.+)-([0-9a-f]{16})-(\d+)$/.exec(job.displayName);
    const stage = match?.[1] ?? 'unknown';
    const chunk = match ? `${stage}-${match[2]}` : job.displayName;
    attemptsByChunk.set(chunk, [...(attemptsByChunk.get(chunk) ?? []), Number(match?.[3] ?? 0)]);
    const figures = (byStage[stage] ??= { jobs: 0, chunks: 0, states: {} });
    figures.jobs += 1;
    const state = job.state.replace(/^(BATCH|JOB)_STATE_/, '');
    figures.states[state] = (figures.states[state] ?? 0) + 1;
  }
  const secondJobs: string[] = [];
  const attemptsWithoutEarlierJob: string[] = [];
  const suspectChunks = new Set<string>();
  let resubmittedAfterEnd = 0;
  for (const [chunk, attempts] of attemptsByChunk) {
    const stage = chunk.slice(0, chunk.lastIndexOf('-'));
    const stageFigures = byStage[stage];
    if (stageFigures) stageFigures.chunks += 1;
    const sorted = [...new Set(attempts)].sort((left, right) => left - right);
    if (attempts.length > sorted.length) suspectChunks.add(chunk);
    for (const attempt of sorted) {
      if (attempt === 1) continue;
      // Attempt n exists because n - 1 records of this chunk did. Each earlier one must have had its job end in
      // failure before attempt n was created (the same lines in a new round), or never have got a job at all.
      const current = jobByName.get(`${prefix}${chunk}-${attempt}`);
      const earlier = jobByName.get(`${prefix}${chunk}-${attempt - 1}`);
      const earlierRecord = recordByName.get(`${prefix}${chunk}-${attempt - 1}`);
      const recordText = earlierRecord ? `${earlierRecord.status}${earlierRecord.finalState ? ` ${earlierRecord.finalState}` : ''}, job ${earlierRecord.jobName ?? 'none'}` : 'missing';
      suspectChunks.add(chunk);
      if (!earlier) {
        attemptsWithoutEarlierJob.push(`${chunk}-${attempt}: no job for attempt ${attempt - 1} (its record: ${recordText})`);
      } else if (/SUCCEEDED$/.test(earlier.state) || earlier.endTime === undefined || (current !== undefined && current.createTime < earlier.endTime)) {
        secondJobs.push(`${chunk}-${attempt} created ${current?.createTime ?? '?'}: attempt ${attempt - 1} ${earlier.state} ended ${earlier.endTime ?? 'never'} (its record: ${recordText})`);
      } else {
        suspectChunks.delete(chunk);
        resubmittedAfterEnd += 1;
      }
    }
  }
  const listedNames = new Set(listed.map((job) => job.name));
  return {
    jobsCreated: options.batchesCreated,
    jobsListed: listed.length,
    distinctDisplayNames: countByDisplayName.size,
    distinctChunks: attemptsByChunk.size,
    byStage,
    duplicateDisplayNames: [...countByDisplayName].filter(([, count]) => count > 1).map(([name, count]) => `${name} ×${count}`),
    secondJobs,
    attemptsWithoutEarlierJob,
    resubmittedAfterEnd,
    jobsWithoutRecord: listed.filter((job) => recordByName.get(job.displayName)?.jobName !== job.name).map((job) => `${job.displayName} (${job.name})`),
    recordsNotListed: records.filter((record) => record.jobName && !listedNames.has(record.jobName)).map((record) => `${record.displayName} (${record.jobName})`),
    suspectChunks: [...suspectChunks],
    listed,
    records,
  };
}

/** One chunk's story, to describe a finding: its records, its jobs as listed, and each run's lines that name them. */
function describeChunkHistory(options: { chunk: string; jobs: JobAudit; runs: readonly MeasuredRun[] }): string[] {
  const fingerprint = options.chunk.slice(options.chunk.lastIndexOf('-') + 1);
  const records = options.jobs.records.filter((record) => record.fingerprint.startsWith(fingerprint)).sort((left, right) => left.attempt - right.attempt);
  const listed = options.jobs.listed.filter((job) => job.displayName.includes(`-${fingerprint}-`));
  const names = [fingerprint, ...records.flatMap((record) => (record.jobName ? [record.jobName] : [])), ...listed.map((job) => job.name)];
  const story = [
    `chunk ${options.chunk}:`,
    ...records.map((record) => `  record ${record.displayName}: ${record.keys.length} lines, ${record.status}${record.finalState ? ` ${record.finalState}` : ''}, job ${record.jobName ?? 'none'}`),
    ...listed.map((job) => `  listed ${job.displayName}: ${job.name} ${job.state}`),
  ];
  for (const run of options.runs) {
    const mentions = run.stderrLines.filter((line) => names.some((name) => line.text.includes(name)));
    if (mentions.length === 0) continue;
    story.push(`  ${describeRun(run)}`);
    for (const line of mentions) story.push(`    +${(line.atMilliseconds / 1000).toFixed(1)} s ${line.text}`);
  }
  return story;
}

function categorizeReason(reason: string): string {
  for (const [category, pattern] of reasonCategories) if (pattern.test(reason)) return category;
  return reason.replace(/batches\/[a-z0-9]+/g, 'batches/…').replace(/files\/[a-z0-9-]+/g, 'files/…').slice(0, 80);
}

function countFailures(failures: readonly Failure[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const failure of failures) {
    const key = `${failure.stage}: ${categorizeReason(failure.reason)}${failure.retryable ? '' : ' (not retryable)'}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort(([left], [right]) => left.localeCompare(right));
  return entries.length === 0 ? 'none' : entries.map(([name, count]) => `${name} ×${count}`).join('; ');
}

function formatDuration(milliseconds: number): string {
  const seconds = Math.round(milliseconds / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/** The code measured: others edit the working tree too, so a figure is only worth the commit and changes it ran on. */
function describeCodeVersion(): string {
  const directory = join(import.meta.dirname, '..');
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: directory, encoding: 'utf8' }).stdout.trim();
  const changed = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: directory, encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
  if (!commit) return 'not a git checkout';
  return changed > 0 ? `commit ${commit} + uncommitted changes to ${changed} files` : `commit ${commit}`;
}

function formatThousands(value: number): string {
  return value.toLocaleString('en-US');
}

// ---------------------------------------------------------------------------------------------------------------
// The bench.

interface Series {
  runs: MeasuredRun[];
  wallMilliseconds: number;
  plainRerunRetried: boolean | undefined;
  /** Failures when the series first ended (0 or 3), before any settling rerun. */
  firstEndFailures: Failure[];
  failedReruns: MeasuredRun[];
}

/** One planned SIGKILL: in a run's start-up (a share of the last start-up measured), or some time into its work. */
type KillPlan = { during: 'start-up'; share: number } | { during: 'work'; delayMilliseconds: number };

/**
 * Runs `chargen run` in the project, killing run i as `kills[i]` says, until a run ends 0 or 3 unkilled; then settles
 * the retryable failures.
 */
async function runSeries(options: { project: Project; emulator: RunningEmulator; statsDirectory: string; kills: readonly KillPlan[]; startUpMilliseconds: number }): Promise<Series> {
  const { project, emulator } = options;
  const runs: MeasuredRun[] = [];
  const failedReruns: MeasuredRun[] = [];
  const run = async (label: string, args: string[], kill?: KillPlan) => {
    // A rerun's start-up grows with what the workspace holds: the last one measured stands for the next.
    const startUp = runs.findLast((earlier) => earlier.startUpMilliseconds !== undefined)?.startUpMilliseconds ?? options.startUpMilliseconds;
    const measured = await runChargen({
      project,
      label,
      args,
      emulator,
      statsDirectory: options.statsDirectory,
      ...(kill?.during === 'start-up' ? { kill: { after: 'spawn', delayMilliseconds: Math.round(kill.share * startUp) } } : {}),
      ...(kill?.during === 'work' ? { kill: { after: 'start-up', delayMilliseconds: kill.delayMilliseconds } } : {}),
    });
    if (!measured.killed) measured.failuresAfter = countFailures(await readFailures(project));
    process.stderr.write(`  ${project.name}: ${describeRun(measured)}\n`);
    return measured;
  };

  const startedAt = performance.now();
  let heldRuns = 0;
  for (let index = 0; ; index += 1) {
    const measured = await run(`run-${String(index + 1).padStart(2, '0')}`, ['run', '--yes', '--poll-interval', String(pollIntervalMilliseconds), '--json'], options.kills[index]);
    runs.push(measured);
    if (measured.killed) continue;
    if (measured.code === 0 || measured.code === 3) break;
    // Exit 4: a job it could not follow to its end (its polls failed beyond retries) is left for the next run to
    // resume, as documented; anything else is a rerun that failed, noted and tried again a few times.
    if (measured.code === 4 && heldRuns < maxHeldRuns) {
      heldRuns += 1;
      continue;
    }
    failedReruns.push(measured);
    if (failedReruns.length >= maxFailedReruns) break;
  }
  const firstEndFailures = await readFailures(project);
  const { plainRerunRetried } = await settleRetryableFailures({ project, runs, run });
  return { runs, wallMilliseconds: performance.now() - startedAt, plainRerunRetried, firstEndFailures, failedReruns };
}

/**
 * K kills from the seed. A few land in a start-up (loading, scanning, reading caches: worth a kill, but a run killed
 * there does nothing); the others are moments uniform over the expected working time of a run without kills, taken
 * in order, each as the delay after a run's start-up since the previous one: so they land in every phase of the
 * pipeline, and not only in its first minutes, however long each rerun's start-up takes.
 */
function planKills(options: { seed: string; kills: number; workMilliseconds: number }): KillPlan[] {
  const random = createSeededRandom(`${options.seed}/kills`);
  const kinds = Array.from({ length: options.kills }, () => (random() < startUpKillShare ? 'start-up' : 'work'));
  const moments = kinds.filter((kind) => kind === 'work').map(() => random() * options.workMilliseconds).sort((left, right) => left - right);
  let workIndex = 0;
  return kinds.map((kind): KillPlan => {
    if (kind === 'start-up') return { during: 'start-up', share: random() };
    const moment = moments[workIndex]!;
    const previous = workIndex > 0 ? moments[workIndex - 1]! : 0;
    workIndex += 1;
    return { during: 'work', delayMilliseconds: Math.round(moment - previous) };
  });
}

function describeKillPlan(plan: KillPlan): string {
  return plan.during === 'start-up' ? `at ${Math.round(plan.share * 100)}% of a start-up` : `${(plan.delayMilliseconds / 1000).toFixed(1)} s after the start-up`;
}

async function checkLastRunSendsNothing(options: { project: Project; emulator: RunningEmulator; statsDirectory: string }): Promise<{ sendsNothing: boolean; detail: string }> {
  const before = await options.emulator.readStats();
  const run = await runChargen({ ...options, label: 'check', args: ['run', '--yes', '--json'] });
  const after = await options.emulator.readStats();
  const sent = Object.entries(run.summary?.stages ?? {}).map(([stage, summary]) => `${stage} ${summary.requestsSent}`);
  // The summary is only a second opinion (it can come cut short: see the problems): the emulator's counters say what was sent.
  const moved = (['uploads', 'batchesCreated', 'generateContentCalls', 'downloads'] as const).filter((counter) => after[counter] !== before[counter]);
  const summarySaysNothing = Object.values(run.summary?.stages ?? {}).every((stage) => stage.requestsSent === 0);
  const sendsNothing = run.code !== undefined && [0, 3].includes(run.code) && summarySaysNothing && moved.length === 0;
  return {
    sendsNothing,
    detail: `exit ${run.code}, requests sent: ${sent.join(', ') || `no summary (${run.stdoutBytes} bytes on stdout)`}${moved.length > 0 ? `; emulator counters moved: ${moved.join(', ')}` : ''}`,
  };
}

function readRequestsByModel(stats: EmulatorStats, model: string): number {
  return stats.requestsByModel[model] ?? 0;
}

async function runBench(): Promise<void> {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '10000' },
      kills: { type: 'string', default: '50' },
      seed: { type: 'string', default: 'soak-1' },
      'chunk-lines': { type: 'string', default: '1000' },
      'skip-baseline': { type: 'boolean', default: false },
      'expected-seconds': { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const imageCount = Number(values.images);
  const killCount = Number(values.kills);
  const chunkLines = Number(values['chunk-lines']);
  const seed = values.seed;
  if (!Number.isInteger(imageCount) || imageCount < 1) throw new Error('--images must be a positive integer');
  if (!Number.isInteger(killCount) || killCount < 0) throw new Error('--kills must be a whole number');
  if (!Number.isInteger(chunkLines) || chunkLines < 1) throw new Error('--chunk-lines must be a positive integer');
  if (values['skip-baseline'] && values['expected-seconds'] === undefined) throw new Error('--skip-baseline needs --expected-seconds (the working time a run without kills takes), to place the kills');

  const benchStartedAt = performance.now();
  const codeVersion = describeCodeVersion();
  const [loadAverage] = loadavg();
  if (loadAverage !== undefined && loadAverage > availableParallelism() / 2) {
    process.stderr.write(`note: load average ${loadAverage.toFixed(1)} on ${availableParallelism()} CPUs; other work will slow both the soak and its baseline, and not alike\n`);
  }
  const root = await mkdtemp(join(tmpdir(), 'chargen-bench-soak-'));
  const statsDirectory = join(root, 'time');
  await mkdir(statsDirectory);
  let emulator: RunningEmulator | undefined;
  // Ctrl-C must leave neither a run nor the emulator nor gigabytes of images behind.
  const stopOnSignal = () => {
    void (async () => {
      await stopActiveRun?.().catch(() => undefined);
      await emulator?.stop().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
      process.exit(130);
    })();
  };
  process.on('SIGINT', stopOnSignal);
  process.on('SIGTERM', stopOnSignal);
  try {
    const generationStartedAt = performance.now();
    const images = createInputImages({ count: imageCount, seed });
    process.stderr.write(`${imageCount} distinct images (${Math.round(images.reduce((total, image) => total + image.bytes.length, 0) / 1024)} KiB) in ${formatDuration(performance.now() - generationStartedAt)}; working in ${root}\n`);

    const faults = createCiFaults(`${seed}/faults`);
    const faultsPath = join(root, 'faults.json');
    await writeFile(faultsPath, JSON.stringify(faults, null, 2));
    emulator = await startEmulator({ directory: root, faultsPath });
    process.stderr.write(`chargen emulator at ${emulator.baseUrl}\n`);

    let baseline: Series | undefined;
    let baselineAudit: OutputAudit | undefined;
    if (!values['skip-baseline']) {
      process.stderr.write('baseline: one project, no kill\n');
      const project = await createProject({ root, name: 'baseline', images, chunkLines });
      baseline = await runSeries({ project, emulator, statsDirectory, kills: [], startUpMilliseconds: 0 });
      baselineAudit = await auditOutputs({ project, failures: await readFailures(project) });
      await rm(project.directory, { recursive: true, force: true });
      // The soak starts from the same emulator: no jobs or files, the fault dice and job outcomes from the start.
      await emulator.reset();
    }

    const firstBaselineRun = baseline?.runs[0];
    const startUpMilliseconds = firstBaselineRun?.startUpMilliseconds ?? 3_000;
    const workMilliseconds = values['expected-seconds'] !== undefined ? Number(values['expected-seconds']) * 1000 : (firstBaselineRun?.elapsedMilliseconds ?? 0) - startUpMilliseconds;
    const kills = planKills({ seed, kills: killCount, workMilliseconds });
    process.stderr.write(`soak: ${killCount} kills over ${formatDuration(workMilliseconds)} of work after a start-up of ${formatDuration(startUpMilliseconds)} (seed "${seed}")\n`);
    const project = await createProject({ root, name: 'soak', images, chunkLines });
    const statsBefore = await emulator.readStats();
    const soak = await runSeries({ project, emulator, statsDirectory, kills, startUpMilliseconds });
    const statsAfterSoak = await emulator.readStats();
    const lastRunCheck = await checkLastRunSendsNothing({ project, emulator, statsDirectory });

    const failures = await readFailures(project);
    const outputs = await auditOutputs({ project, failures });
    const jobs = await auditJobs({ project, emulator, batchesCreated: statsAfterSoak.batchesCreated - statsBefore.batchesCreated });
    // A warning from the emulator is a bug in it, which would make every other figure suspect.
    const emulatorWarnings = emulator.stderrLines.filter((line) => /warning/i.test(line.text)).map((line) => line.text);
    const emulatorExit = await emulator.stop();
    emulator = undefined;

    const killed = soak.runs.filter((run) => run.killed);
    const killsByPhase: Record<string, number> = {};
    for (const run of killed) killsByPhase[run.phase] = (killsByPhase[run.phase] ?? 0) + 1;
    const allRuns = [...soak.runs, ...(baseline?.runs ?? [])];
    // A summary is one JSON document whatever the exit code; stdout on a pipe is written asynchronously, so a process
    // that exits without waiting for it to drain cuts it at the pipe's 64 KiB.
    const unparsedSummaries = allRuns.filter((run) => !run.killed && run.summary === undefined);
    const peakRssMegabytes = Math.round(Math.max(...soak.runs.map((run) => run.peakRssKilobytes)) / 1024);
    const baselinePeakRssMegabytes = baseline ? Math.round(Math.max(...baseline.runs.map((run) => run.peakRssKilobytes)) / 1024) : undefined;
    const soakImagesPerSecond = imageCount / (soak.wallMilliseconds / 1000);
    const baselineImagesPerSecond = baseline ? imageCount / (baseline.wallMilliseconds / 1000) : undefined;
    const costPerKillMilliseconds = baseline && killed.length > 0 ? (soak.wallMilliseconds - baseline.wallMilliseconds) / killed.length : undefined;
    const adoptions = soak.runs.reduce((total, run) => total + run.stderrLines.filter((line) => /adopted batches\//.test(line.text)).length, 0);
    const statsDelta = {
      uploads: statsAfterSoak.uploads - statsBefore.uploads,
      analyzeLinesAnswered: readRequestsByModel(statsAfterSoak, analyzeModel) - readRequestsByModel(statsBefore, analyzeModel),
      imageLinesAnswered: readRequestsByModel(statsAfterSoak, imageModel) - readRequestsByModel(statsBefore, imageModel),
      faultsInjected: Object.fromEntries(
        Object.entries(statsAfterSoak.faultsInjected)
          .map(([kind, count]) => [kind, count - (statsBefore.faultsInjected[kind] ?? 0)] as const)
          .filter(([, count]) => count > 0),
      ),
    };
    const problems = [
      ...(outputs.lost.length > 0 ? [`${outputs.lost.length} images lost: ${outputs.lost.slice(0, 20).join(', ')}`] : []),
      ...(outputs.doubled.length > 0 ? [`${outputs.doubled.length} images doubled: ${outputs.doubled.slice(0, 20).join(', ')}`] : []),
      ...(outputs.broken.length > 0 ? [`${outputs.broken.length} sidecars without their whole image: ${outputs.broken.slice(0, 20).join(', ')}`] : []),
      ...(outputs.strayImages.length > 0 ? [`${outputs.strayImages.length} images no sidecar names: ${outputs.strayImages.slice(0, 20).join(', ')}`] : []),
      ...(outputs.temporaryFiles.length > 0 ? [`${outputs.temporaryFiles.length} temporary files left in the output folder`] : []),
      ...jobs.duplicateDisplayNames.map((name) => `a chunk submitted twice: ${name}`),
      ...jobs.secondJobs.map((entry) => `a second job for a chunk: ${entry}`),
      ...jobs.attemptsWithoutEarlierJob.map((entry) => `(not a double) a chunk's attempt without a job for the attempt before: ${entry}`),
      ...(jobs.jobsCreated !== jobs.jobsListed ? [`batchesCreated ${jobs.jobsCreated} but ${jobs.jobsListed} jobs of this workspace listed`] : []),
      ...jobs.jobsWithoutRecord.map((entry) => `a job without a record naming it: ${entry}`),
      ...jobs.recordsNotListed.map((entry) => `a record whose job is not listed: ${entry}`),
      ...soak.failedReruns.map((run) => `a rerun failed (${describeRun(run)}): ${run.stderrLines.slice(-3).map((line) => line.text).join(' | ')}`),
      ...(soak.plainRerunRetried === false ? ['a plain rerun after exit 3 sent nothing: stages with a current checkpoint were skipped, retryable failures and all (settled with --from analyze)'] : []),
      ...(lastRunCheck.sendsNothing ? [] : [`the run after the last one was not idle: ${lastRunCheck.detail}`]),
      ...(unparsedSummaries.length > 0
        ? [
            `${unparsedSummaries.length} of ${allRuns.filter((run) => !run.killed).length} runs that were not killed printed a --json summary that does not parse: ` +
              `${unparsedSummaries.map((run) => `${run.label} exit ${run.code}, ${run.stdoutBytes} bytes`).join('; ')}`,
          ]
        : []),
      ...(emulatorExit.code === 0 ? [] : [`the emulator exited ${emulatorExit.code ?? 'on a signal'} when stopped`]),
      ...emulatorWarnings.map((line) => `the emulator warned: ${line}`),
    ];

    const figures = {
      images: imageCount,
      seed,
      chunkLines,
      faults,
      emulatorLatency,
      kills: { planned: killCount, landed: killed.length, byPhase: killsByPhase, plan: kills.map(describeKillPlan) },
      soak: {
        runs: soak.runs.length,
        wallSeconds: Number((soak.wallMilliseconds / 1000).toFixed(1)),
        imagesPerSecond: Number(soakImagesPerSecond.toFixed(2)),
        peakRssMegabytes,
        jobsAdoptedAfterAKill: adoptions,
        plainRerunRetried: soak.plainRerunRetried,
        runsLog: soak.runs.map(describeRun),
      },
      baseline: baseline
        ? {
            runs: baseline.runs.length,
            wallSeconds: Number((baseline.wallMilliseconds / 1000).toFixed(1)),
            startUpSeconds: Number((startUpMilliseconds / 1000).toFixed(1)),
            imagesPerSecond: Number((baselineImagesPerSecond ?? 0).toFixed(2)),
            peakRssMegabytes: baselinePeakRssMegabytes,
            outputs: baselineAudit,
            runsLog: baseline.runs.map(describeRun),
            deadLettersAtFirstEnd: countFailures(baseline.firstEndFailures),
          }
        : undefined,
      costPerKillSeconds: costPerKillMilliseconds !== undefined ? Number((costPerKillMilliseconds / 1000).toFixed(1)) : undefined,
      emulator: { peakRssMegabytes: Math.round(emulatorExit.peakRssKilobytes / 1024), exitCode: emulatorExit.code, ...statsDelta },
      jobs: { ...jobs, listed: undefined, records: undefined },
      outputs: { ...outputs, lost: outputs.lost.length, doubled: outputs.doubled.length, broken: outputs.broken.length, strayImages: outputs.strayImages.length, temporaryFiles: outputs.temporaryFiles.length },
      deadLetters: { atFirstEnd: countFailures(soak.firstEndFailures), final: countFailures(failures) },
      lastRunSendsNothing: lastRunCheck,
      problems,
      peakRssMeasuredBy: rssMethod,
      code: codeVersion,
      node: process.version,
      cpus: availableParallelism(),
      benchWallSeconds: Number(((performance.now() - benchStartedAt) / 1000).toFixed(1)),
    };
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n\n`);

    const chunkFigures = Object.entries(jobs.byStage)
      .sort(([left], [right]) => left.localeCompare(right))
      .map(([stage, stageJobs]) => `${stage} ${stageJobs.jobs} jobs / ${stageJobs.chunks} chunks (${Object.entries(stageJobs.states).map(([state, count]) => `${count} ${state.toLowerCase()}`).join(', ')})`)
      .join('; ');
    const rows: [string, string][] = [
      ['workload', `${formatThousands(imageCount)} distinct 64×96 PNGs → 1K images, \`chunkMaxLines\` ${chunkLines}, \`--poll-interval ${pollIntervalMilliseconds}\`; emulator child process with the CI fault suite's faults (30% 429/503 with RetryInfo 1 s, 10% line errors, 1 job EXPIRED, 1 FAILED, 1 cut download), jobs pending ${emulatorLatency.pendingMilliseconds} ms / running ${emulatorLatency.runningMilliseconds} ms`],
      ['kills', `${killed.length} of ${killCount} SIGKILLs landed (seed \`${seed}\`), ${soak.runs.length} runs in all; by phase: ${formatCounts(killsByPhase)}; ${adoptions} jobs adopted by displayName on a rerun`],
      ['wall time', `${formatDuration(soak.wallMilliseconds)} with kills${baseline ? `; ${formatDuration(baseline.wallMilliseconds)} without (same-run baseline, ${baseline.runs.length} run${baseline.runs.length === 1 ? '' : 's'})` : ''}`],
      ['throughput (end to end)', `${soakImagesPerSecond.toFixed(2)} images/s with kills${baselineImagesPerSecond !== undefined ? `; ${baselineImagesPerSecond.toFixed(2)} images/s without${costPerKillMilliseconds !== undefined ? `; (with − without) / kills: ${(costPerKillMilliseconds / 1000).toFixed(1)} s per kill` : ''}` : ''}`],
      ['peak RSS', `${peakRssMegabytes} MiB, max over ${soak.runs.length} chargen runs${baselinePeakRssMegabytes !== undefined ? ` (${baselinePeakRssMegabytes} MiB without kills)` : ''}; emulator ${Math.round(emulatorExit.peakRssKilobytes / 1024)} MiB`],
      ['batch jobs vs chunks', `${jobs.jobsCreated} created for ${jobs.distinctDisplayNames} distinct displayNames (${jobs.distinctChunks} distinct chunks; ${jobs.resubmittedAfterEnd} chunk${jobs.resubmittedAfterEnd === 1 ? '' : 's'} sent again after its job ended FAILED/EXPIRED); ${chunkFigures}; chunks submitted twice: ${jobs.duplicateDisplayNames.length + jobs.secondJobs.length}`],
      ['images lost', `${outputs.lost.length} (${formatThousands(outputs.exactlyOnce)} of ${formatThousands(imageCount)} inputs with exactly one whole image + sidecar)`],
      ['images doubled', `${outputs.doubled.length}${outputs.strayImages.length + outputs.broken.length + outputs.temporaryFiles.length > 0 ? `; ${outputs.strayImages.length} stray images, ${outputs.broken.length} broken sidecars, ${outputs.temporaryFiles.length} temporary files` : ''}`],
      ['dead letters', `when the series first ended: ${formatCounts(countFailures(soak.firstEndFailures))}; after settling: ${formatCounts(countFailures(failures))}`],
      ['measured', `${new Date().toISOString().slice(0, 10)}, ${codeVersion}, Node ${process.version}, ${availableParallelism()} CPUs; peak RSS by ${rssMethod}; \`npm run bench:soak -- --images ${imageCount} --kills ${killCount} --seed ${seed}\``],
    ];
    process.stdout.write('| soak | figure |\n|---|---|\n');
    for (const [name, value] of rows) process.stdout.write(`| ${name} | ${value.replaceAll('|', '\\|')} |\n`);
    process.stdout.write(problems.length > 0 ? `\nproblems:\n${problems.map((problem) => `- ${problem}`).join('\n')}\n` : '\nno problem found\n');
    for (const chunk of jobs.suspectChunks) process.stdout.write(`\n${describeChunkHistory({ chunk, jobs, runs: soak.runs }).join('\n')}\n`);
    if (outputs.lost.length > 0 || outputs.doubled.length > 0 || jobs.duplicateDisplayNames.length + jobs.secondJobs.length > 0) process.exitCode = 1;
  } finally {
    await emulator?.stop().catch(() => undefined);
    if (values.keep) process.stderr.write(`kept ${root}\n`);
    else await rm(root, { recursive: true, force: true });
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
  }
}

await runBench();
