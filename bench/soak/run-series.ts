import { performance } from 'node:perf_hooks';
import { createSeededRandom } from '../../test/support/kill-schedule.ts';
import { type EmulatorStats } from '../../test/support/emulator-admin.ts';
import { countFailures } from './audit-soak.ts';
import { type Failure, type Project, describeRun, readFailures, runChargen, settleRetryableFailures } from './run-chargen.ts';
import { type RunningEmulator } from './soak-emulator.ts';
import { maxFailedReruns, maxHeldRuns, pollIntervalMilliseconds, startUpKillShare } from './soak-settings.ts';
import { type MeasuredRun } from './spawn-measured.ts';
// ---------------------------------------------------------------------------------------------------------------
// The bench.

export interface Series {
  runs: MeasuredRun[];
  wallMilliseconds: number;
  plainRerunRetried: boolean | undefined;
  /** Failures when the series first ended (0 or 3), before any settling rerun. */
  firstEndFailures: Failure[];
  failedReruns: MeasuredRun[];
}

/** One planned SIGKILL: in a run's start-up (a share of the last start-up measured), or some time into its work. */
export type KillPlan = { during: 'start-up'; share: number } | { during: 'work'; delayMilliseconds: number };

/**
 * Runs `chargen run` in the project, killing run i as `kills[i]` says, until a run ends 0 or 3 unkilled; then settles
 * the retryable failures.
 */
export async function runSeries(options: { project: Project; emulator: RunningEmulator; statsDirectory: string; kills: readonly KillPlan[]; startUpMilliseconds: number }): Promise<Series> {
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
export function planKills(options: { seed: string; kills: number; workMilliseconds: number }): KillPlan[] {
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

export function describeKillPlan(plan: KillPlan): string {
  return plan.during === 'start-up' ? `at ${Math.round(plan.share * 100)}% of a start-up` : `${(plan.delayMilliseconds / 1000).toFixed(1)} s after the start-up`;
}

export async function checkLastRunSendsNothing(options: { project: Project; emulator: RunningEmulator; statsDirectory: string }): Promise<{ sendsNothing: boolean; detail: string }> {
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

export function readRequestsByModel(stats: EmulatorStats, model: string): number {
  return stats.requestsByModel[model] ?? 0;
}
