import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { createEmulatorAdmin } from '../support/emulator-admin.ts';
import { describeKillMoment, readEmulatorStats, runAndKill, type KilledRun, type KillMoment } from '../support/kill-schedule.ts';

/**
 * Stragglers under SIGKILL: `chargen run` against a `chargen emulator` child whose first analysis job stays PENDING
 * (the STUCK_PENDING fault) is killed at moments around its replacement (the cancel asked, the cancel landing, the
 * replacement prepared, created, adopted), run again after each kill, and then: every image made once, each analysis
 * and image paid once, one cancel, exactly one replacement, and the deadline and what happened in `chargen status`.
 */

const apiKey = 'test-key-for-the-emulator-stragglers-5d1c';
const analyzeModel = 'gemini-3-flash-preview';
const imageModel = 'gemini-3-pro-image';
const deadlineMilliseconds = 1_500;

const stillPending = /still PENDING at its deadline/;
const replacementPrepared = /lines go into chargen-/;
const adoptedOrSubmitted = /^analyze: (adopted batches\/|batches\/\S+ submitted)/;
/** The executor's progress line when a poll finds a job not yet done. */
const jobPolled = /^batches\/\S+: (pending|running)$/;
/**
 * One run's limit: a run here takes 5 to 25 s (the latter on 2 cores shared with three other test sessions), so one
 * still going after two minutes hangs. A scenario's limit is its most runs times this, never the machine's load.
 */
const runLimitMilliseconds = 120_000;

const scenarios: { name: string; moments: KillMoment[] }[] = [
  {
    name: 'killed as the cancel is asked, as the replacement is prepared, as it is created, and as it is adopted',
    moments: [
      { label: 'right after the cancel is asked (written in the record)', cues: [{ kind: 'line', pattern: stillPending, delayMilliseconds: 0 }] },
      { label: 'right after the replacement is prepared', cues: [{ kind: 'line', pattern: replacementPrepared, delayMilliseconds: 0 }] },
      { label: 'as the emulator creates the replacement', cues: [{ kind: 'counter', counter: 'batchesCreated', delayMilliseconds: 0 }] },
      {
        // The kill before lands as the emulator counts the create, seen by polling its stats: on a loaded machine the
        // run may have written the job's name into its record by then, and the next run resumes the job by that name
        // (no "adopted" line) rather than adopting it. Either way the moment is the first thing that run reports of
        // the replacement: adopted, submitted, polled, or its results downloaded.
        label: 'right after the replacement is adopted (or resumed, when its record names it already)',
        cues: [
          { kind: 'line', pattern: adoptedOrSubmitted, delayMilliseconds: 0 },
          { kind: 'line', pattern: jobPolled, delayMilliseconds: 0 },
          { kind: 'counter', counter: 'downloads', delayMilliseconds: 0 },
        ],
      },
    ],
  },
  {
    name: 'killed while the cancel is landing, then as the replacement is created',
    moments: [
      { label: 'while the cancel lands (its latency is 500 ms)', cues: [{ kind: 'line', pattern: stillPending, delayMilliseconds: 250 }] },
      { label: 'as the emulator creates the replacement', cues: [{ kind: 'counter', counter: 'batchesCreated', delayMilliseconds: 0 }] },
    ],
  },
];

function readNumber(stats: Record<string, unknown>, field: string): number {
  return typeof stats[field] === 'number' ? stats[field] : 0;
}

function readModelCount(stats: Record<string, unknown>, model: string): number {
  return ((stats['requestsByModel'] ?? {}) as Record<string, number>)[model] ?? 0;
}

describe('a straggler replaced, with chargen run SIGKILLed around the replacement', () => {
  let emulator: EmulatorProcess;
  const projects: string[] = [];
  let stopActiveRun: (() => void) | undefined;

  beforeAll(async () => {
    emulator = await startEmulatorProcess({ pendingMilliseconds: 300, runningMilliseconds: 600 });
  });
  afterAll(async () => {
    stopActiveRun?.();
    await emulator?.stop();
    for (const project of projects) await rm(project, { recursive: true, force: true });
  });

  const environment = () => ({ ...process.env, GEMINI_API_KEY: apiKey, GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl });

  async function runScenario(scenario: (typeof scenarios)[number], context: TestContext): Promise<void> {
    const project = await mkdtemp(join(tmpdir(), 'chargen-straggler-'));
    projects.push(project);
    await cp(join(import.meta.dirname, '..', '..', 'input_images'), join(project, 'input_images'), { recursive: true });
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ gemini: { pendingDeadlineMilliseconds: deadlineMilliseconds } }));
    const inputs = (await readdir(join(project, 'input_images'))).sort();
    const admin = createEmulatorAdmin(emulator.baseUrl);
    // The next analysis job made (this project's first) stays PENDING until cancelled.
    await admin.replaceFaults({ jobOutcomes: [{ outcome: 'STUCK_PENDING', displayNameContains: '-analyze-', count: 1 }] });
    const before = await readEmulatorStats(emulator.baseUrl);

    const runs: { moment?: KillMoment; run: KilledRun }[] = [];
    const report = () =>
      runs
        .map(({ moment, run }, index) => {
          const outcome = run.killedBy
            ? `killed at ${run.killedBy.atMilliseconds} ms by ${run.killedBy.cue}`
            : run.overran
              ? `HUNG: still going after its limit of ${run.overran.limitMilliseconds} ms, killed`
              : `exited ${run.code ?? run.signal}`;
          return `run ${index + 1} (${moment ? describeKillMoment(moment) : 'no kill'}): ${outcome}\n${run.stderr.split('\n').slice(-6).map((line) => `   | ${line}`).join('\n')}`;
        })
        .join('\n');
    context.onTestFailed(() => console.error(`${scenario.name} in ${project}\n${report()}`));

    let momentIndex = 0;
    for (let attempt = 0; attempt < scenario.moments.length + 3; attempt += 1) {
      const moment = scenario.moments[momentIndex];
      const run = await runAndKill({
        args: [chargenBinary, 'run', '--yes'],
        cwd: project,
        env: environment(),
        emulatorBaseUrl: emulator.baseUrl,
        ...(moment ? { moment } : {}),
        onSpawn: (kill) => (stopActiveRun = kill),
        limitMilliseconds: runLimitMilliseconds,
      });
      stopActiveRun = undefined;
      runs.push({ ...(moment ? { moment } : {}), run });
      if (run.killedBy) momentIndex += 1;
      else if (run.code === 0 && momentIndex >= scenario.moments.length) break;
      else momentIndex += 1;
    }
    expect(runs.at(-1)?.run.code, report()).toBe(0);
    // Every planned kill landed: the moments are what this test is about.
    expect(runs.filter(({ run }) => run.killedBy).length, report()).toBe(scenario.moments.length);
    expect(runs.filter(({ run }) => !run.killedBy && run.code !== 0).map(({ run }) => run.stderr), report()).toEqual([]);

    const outputs = (await readdir(join(project, 'final_characters'))).filter((name) => name.endsWith('.jpg')).sort();
    expect(outputs).toEqual(inputs.map((input) => input.replace(/\.png$/, '.jpg')));
    const after = await readEmulatorStats(emulator.baseUrl);
    expect(readModelCount(after, analyzeModel) - readModelCount(before, analyzeModel), report()).toBe(inputs.length);
    expect(readModelCount(after, imageModel) - readModelCount(before, imageModel), report()).toBe(inputs.length);
    expect(readNumber(after, 'batchesCancelled') - readNumber(before, 'batchesCancelled'), report()).toBe(1);
    // The stuck analysis job, its one replacement, and the synthesis job.
    expect(readNumber(after, 'batchesCreated') - readNumber(before, 'batchesCreated'), report()).toBe(3);
    const workspaceId = (JSON.parse(await readFile(join(project, '.chargen', 'workspace.json'), 'utf8')) as { id: string }).id;
    const jobs = (await admin.listBatchJobs(apiKey)).filter((job) => job.displayName.startsWith(`chargen-${workspaceId}-analyze-`));
    expect(jobs.map((job) => `${job.displayName.slice(-2)} ${job.state}`).sort()).toEqual(['-1 BATCH_STATE_CANCELLED', '-2 BATCH_STATE_SUCCEEDED']);

    const status = await runNodeProcess({ cwd: project, args: [chargenBinary, 'status', '--json'], env: environment() });
    expect(status.code, status.stderr).toBe(0);
    const listed = (JSON.parse(status.stdout) as { jobs: { stage: string; displayName: string; pendingDeadlineAt?: string; straggler?: string }[] }).jobs.filter((job) => job.stage === 'analyze');
    const [straggler, replacement] = listed.sort((left, right) => left.displayName.localeCompare(right.displayName));
    expect(straggler?.pendingDeadlineAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(straggler?.straggler).toBe(`straggler: still PENDING at its deadline ${straggler?.pendingDeadlineAt}, cancelled; its unanswered lines went into ${replacement?.displayName}`);
    expect(replacement?.straggler).toBe(`replaces the straggler ${straggler?.displayName}`);
    const text = await runNodeProcess({ cwd: project, args: [chargenBinary, 'status'], env: environment() });
    expect(text.stdout).toContain(`    straggler: still PENDING at its deadline ${straggler?.pendingDeadlineAt}`);
    console.info(`${scenario.name}: ${runs.length} runs\n${runs.map(({ run }, index) => `  run ${index + 1}: ${run.killedBy ? `killed at ${run.killedBy.atMilliseconds} ms by ${run.killedBy.cue}` : `exited ${run.code} after ${run.elapsedMilliseconds} ms`}`).join('\n')}`);
  }

  // Its runs (every moment, and three more at most), then two of chargen status.
  for (const scenario of scenarios) it(scenario.name, async (context) => runScenario(scenario, context), (scenario.moments.length + 3 + 2) * runLimitMilliseconds);
});
