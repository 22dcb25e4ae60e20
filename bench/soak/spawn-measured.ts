import { pollPeakRss, readTimePeakRss, timeBinary } from '../measure-peak-rss.ts';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import type { RunJsonSummary } from '../../pipeline/cli/run-command.ts';
import { useTime } from './soak-settings.ts';
// ---------------------------------------------------------------------------------------------------------------
// Child processes, measured.

export type RunSummary = RunJsonSummary;

/** A line a run printed, with when (milliseconds after its spawn): the phases of a run and the story of a finding. */
export interface TimedLine {
  atMilliseconds: number;
  text: string;
}

export interface MeasuredRun {
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
export async function findChildPid(parentPid: number, hasExited: () => boolean): Promise<number | undefined> {
  for (let attempt = 0; attempt < 400 && !hasExited(); attempt += 1) {
    const text = await readFile(`/proc/${parentPid}/task/${parentPid}/children`, 'utf8').catch(() => '');
    const pid = Number(text.trim().split(/\s+/)[0]);
    if (pid > 0) return pid;
    await sleep(5);
  }
  return undefined;
}

export interface SpawnedProcess {
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
export function spawnMeasured(options: { args: string[]; cwd: string; env: NodeJS.ProcessEnv; statsFile: string; streamStdout?: boolean; onStderrLine?: (line: string) => void }): SpawnedProcess {
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
