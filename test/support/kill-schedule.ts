import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { statSync, watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** Emulator counters (GET /_emulator/stats) whose rise marks a moment of a run from the server's side. */
export type EmulatorCounter = 'batchesCreated' | 'downloads' | 'uploads' | 'objectDownloads' | 'objectsWritten';

/**
 * One way to say when to kill: a fixed time after the start, after a stderr line, after the emulator has counted
 * one more of something (seen by polling its stats, so a few milliseconds late), or while a file matching a pattern
 * exists (or exists and is still empty) in a folder. A kill that must land inside a write lasting microseconds
 * cannot rely on timing: the child is stopped (SIGSTOP) when the file appears, and killed only if the file is still
 * in that state once every one of its threads has stopped; otherwise it goes on (SIGCONT) until the next such file.
 */
export type KillCue =
  | { kind: 'elapsed'; milliseconds: number }
  | { kind: 'line'; pattern: RegExp; delayMilliseconds: number }
  | { kind: 'counter'; counter: EmulatorCounter; delayMilliseconds: number }
  | { kind: 'file'; directory: string; pattern: RegExp; state: 'present' | 'empty' };

/** A planned SIGKILL: whichever of its cues comes first fires it; a run that ends before any of them is not killed. */
export interface KillMoment {
  label: string;
  cues: KillCue[];
  /** Runs to try it in, for a moment a run can slip past (a write of a few microseconds); 1 when absent. */
  attempts?: number;
}

export interface KilledRun {
  /** The cue that fired and when (milliseconds after spawn), when the run was killed. */
  killedBy?: { cue: string; atMilliseconds: number };
  /** Set when the run went past its limit and was killed for it: something is wrong (a hang), not a planned kill. */
  overran?: { limitMilliseconds: number };
  code: number | null;
  signal: NodeJS.Signals | null;
  elapsedMilliseconds: number;
  stderr: string;
  stdout: string;
}

export function describeKillCue(cue: KillCue): string {
  if (cue.kind === 'elapsed') return `${cue.milliseconds} ms after start`;
  if (cue.kind === 'line') return `stderr ${String(cue.pattern)} + ${cue.delayMilliseconds} ms`;
  if (cue.kind === 'file') {
    return `while a file ${String(cue.pattern)} is ${cue.state === 'empty' ? 'there and empty' : 'there'} in ${basename(cue.directory)}/ (stopped, checked, then killed)`;
  }
  return `emulator ${cue.counter} rises + ${cue.delayMilliseconds} ms`;
}

export function describeKillMoment(moment: KillMoment): string {
  const attempts = (moment.attempts ?? 1) > 1 ? ` (in up to ${moment.attempts} runs)` : '';
  return `${moment.label}: ${moment.cues.map(describeKillCue).join(' | ')}${attempts}`;
}

function isFileInState(path: string, state: 'present' | 'empty'): boolean {
  try {
    const size = statSync(path).size;
    return state === 'present' || size === 0;
  } catch {
    return false;
  }
}

/**
 * A small seeded generator (mulberry32 over a hash of the seed): the same seed gives the same kill schedule, so a
 * failing schedule can be replayed.
 */
export function createSeededRandom(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Kill moments from the seed alone: each is either a time after the start (which lands anywhere, start-up included)
 * or a time after the first stderr line matching a pattern (which skips the start-up and lands in the work itself).
 */
export function createRandomKillSchedule(options: {
  seed: string;
  count: number;
  elapsed: { earliestMilliseconds: number; latestMilliseconds: number };
  afterLine: { pattern: RegExp; latestMilliseconds: number };
}): KillMoment[] {
  const random = createSeededRandom(options.seed);
  const { elapsed, afterLine } = options;
  return Array.from({ length: options.count }, (_, index): KillMoment => {
    const useLine = random() < 0.5;
    const cue: KillCue = useLine
      ? { kind: 'line', pattern: afterLine.pattern, delayMilliseconds: Math.floor(random() * afterLine.latestMilliseconds) }
      : { kind: 'elapsed', milliseconds: elapsed.earliestMilliseconds + Math.floor(random() * (elapsed.latestMilliseconds - elapsed.earliestMilliseconds)) };
    return { label: `random ${index + 1}`, cues: [cue] };
  });
}

export async function readEmulatorStats(baseUrl: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}/_emulator/stats`);
  return (await response.json()) as Record<string, unknown>;
}

function readCounter(stats: Record<string, unknown>, counter: EmulatorCounter): number {
  const value = stats[counter];
  return typeof value === 'number' ? value : 0;
}

/** Whether every thread of a process is stopped (Linux /proc); elsewhere a short wait stands in for it. */
async function waitUntilStopped(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => undefined);
    if (!tasks) {
      await sleep(20);
      return;
    }
    const states = await Promise.all(
      tasks.map((task) => readFile(`/proc/${pid}/task/${task}/stat`, 'utf8').then((text) => text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3)).catch(() => 'T')),
    );
    if (states.every((state) => state === 'T' || state === 't')) return;
    await sleep(1);
  }
  throw new Error(`process ${pid} did not stop`);
}

/**
 * Runs a Node script as a child process and SIGKILLs it at the moment given (none: it runs to its end). The
 * emulator's counters are read before the spawn, so a rise is never missed by starting to watch late.
 */
export async function runAndKill(options: {
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  moment?: KillMoment;
  emulatorBaseUrl: string;
  /** Told of the child as soon as it exists, so that a failing test can still stop it. */
  onSpawn?: (kill: () => void) => void;
  /**
   * How long one run may take before it counts as hung and is killed (`overran`), so that a test's own limit can be
   * its runs times this and never trip on a loaded machine: far above any run's time, met only when one hangs.
   */
  limitMilliseconds?: number;
}): Promise<KilledRun> {
  const cues = options.moment?.cues ?? [];
  const counterCues = cues.filter((cue): cue is Extract<KillCue, { kind: 'counter' }> => cue.kind === 'counter');
  const baseline = counterCues.length > 0 ? await readEmulatorStats(options.emulatorBaseUrl) : {};

  const startedAt = performance.now();
  const child = spawn(process.execPath, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  // 'close', not 'exit': by then the pipes are drained too, so no line is lost.
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  options.onSpawn?.(() => {
    if (!hasExited()) child.kill('SIGKILL');
  });

  let killedBy: KilledRun['killedBy'];
  const timers: NodeJS.Timeout[] = [];
  const fire = (cue: KillCue) => {
    if (killedBy || hasExited()) return;
    killedBy = { cue: describeKillCue(cue), atMilliseconds: Math.round(performance.now() - startedAt) };
    child.kill('SIGKILL');
  };
  const arm = (cue: KillCue, delayMilliseconds: number) => {
    if (delayMilliseconds <= 0) fire(cue);
    else timers.push(setTimeout(() => fire(cue), delayMilliseconds));
  };

  for (const cue of cues) if (cue.kind === 'elapsed') arm(cue, cue.milliseconds);
  let overran: KilledRun['overran'];
  const { limitMilliseconds } = options;
  if (limitMilliseconds !== undefined) {
    timers.push(
      setTimeout(() => {
        if (killedBy || hasExited()) return;
        overran = { limitMilliseconds };
        child.kill('SIGKILL');
      }, limitMilliseconds),
    );
  }

  const watchers: FSWatcher[] = [];
  let checking = false;
  for (const cue of cues) {
    if (cue.kind !== 'file') continue;
    watchers.push(
      watch(cue.directory, (_event, name) => {
        if (checking || !name || !cue.pattern.test(name) || killedBy || hasExited() || child.pid === undefined) return;
        checking = true;
        const pid = child.pid;
        child.kill('SIGSTOP');
        void waitUntilStopped(pid)
          .then(() => {
            if (isFileInState(join(cue.directory, name), cue.state)) fire(cue);
            else child.kill('SIGCONT');
          })
          .catch(() => fire(cue))
          .finally(() => (checking = false));
      }),
    );
  }

  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const stderrLines: string[] = [];
  const lineCues = cues.filter((cue): cue is Extract<KillCue, { kind: 'line' }> => cue.kind === 'line');
  const armedLines = new Set<KillCue>();
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrLines.push(line);
    for (const cue of lineCues) {
      if (armedLines.has(cue) || !cue.pattern.test(line)) continue;
      armedLines.add(cue);
      arm(cue, cue.delayMilliseconds);
    }
  });

  let watching = counterCues.length > 0;
  const watcher = (async () => {
    const pending = new Set(counterCues);
    while (watching && pending.size > 0) {
      const stats = await readEmulatorStats(options.emulatorBaseUrl).catch(() => undefined);
      for (const cue of [...pending]) {
        if (stats && readCounter(stats, cue.counter) > readCounter(baseline, cue.counter)) {
          pending.delete(cue);
          arm(cue, cue.delayMilliseconds);
        }
      }
      await sleep(3);
    }
  })();

  const [code, signal] = await closed;
  watching = false;
  for (const watcher of watchers) watcher.close();
  for (const timer of timers) clearTimeout(timer);
  await watcher;
  return {
    ...(killedBy ? { killedBy } : {}),
    ...(overran ? { overran } : {}),
    code,
    signal,
    elapsedMilliseconds: Math.round(performance.now() - startedAt),
    stderr: stderrLines.join('\n'),
    stdout,
  };
}
