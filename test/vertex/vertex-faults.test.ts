import { describe, expect, it, type TestContext } from 'vitest';
import { createCiFaults } from '../support/ci-faults.ts';
import type { EmulatorStats } from '../support/emulator-admin.ts';
import {
  createProject,
  describeRuns,
  injectedFaultReasons,
  keepForInspection,
  runChargen,
  runUntilDone,
  type FaultHarness,
  type Project,
  type RunRecord,
} from '../support/fault-scenario.ts';
import { auditJobs, checkFinalOutputs, describeFaults, reportScenario } from '../support/audit-fault-scenario.ts';
import { useFaultHarness } from '../support/use-fault-harness.ts';

/**
 * Issue 18, "with kills and faults": test/reliability/faults.test.ts (issue 8) on the Vertex AI backend. Whole
 * `chargen run`s with `backend: "vertex"`, as child processes, against a `chargen emulator --faults` child process
 * with the same fault set (createCiFaults): 30% 429/503 on every endpoint, which on Vertex are the Cloud Storage JSON
 * API (objects insert/get/list/delete, in its own envelope: 429 rateLimitExceeded, 503 backendError), the
 * batchPredictionJobs calls and the publisher models' get and generateContent; 10% line errors (a `status` text in
 * the predictions file); one analyze job EXPIRED and one synthesize job FAILED (jobOutcomes apply to prediction jobs
 * as to Gemini batches); and one cut download, which on Vertex is the first Cloud Storage `alt=media` read, of a
 * predictions file.
 *
 * Two of faults.test.ts's three scenarios: A (every fault, the run completes) and C (an EXPIRED job with no round
 * left, exit 3, a rerun finishes); scenario B (the Files API's uploads expire between the stages) has no Vertex
 * counterpart: references in the bucket never expire. And S: `--mode sync`, where the 429/503s hit generateContent.
 *
 * Every assertion holds for any outcome of the seeded dice (see faults.test.ts): a run ends 0, or 3 with each dead
 * letter explained by an injected fault, and runs again until done; then every input has its image and sidecar,
 * whole; no chunk has two jobs with one display name; one more run sends nothing; the Files API is never used.
 */

const vertex = { project: 'faults-project', location: 'us-central1', bucket: 'chargen-faults', prefix: 'chargen' };
const baseFaults = createCiFaults('vertex-faults');
/**
 * More retries and shorter backoffs than the defaults, as in faults.test.ts; and a short idle timeout on downloads:
 * @google-cloud/storage's read stream does not notice a connection cut part-way, so chargen gives a predictions read
 * up only after `downloadIdleTimeoutMilliseconds` with nothing received (2 minutes by default) and reads it again.
 */
const gemini = { retryAttempts: 10, retryInitialMilliseconds: 50, retryMaxMilliseconds: 2_000, downloadIdleTimeoutMilliseconds: 2_000 };

/**
 * On Vertex, a failed prediction line's `status` is the HTTP reason and the error envelope, with the HTTP code
 * (`Internal Server Error: {"error": {"code": 500, …, "status": "INTERNAL"}}`, read as `error 500 INTERNAL: …`), and
 * Cloud Storage names its 429/503 by reason.
 */
const vertexFaultReasons: Record<string, RegExp> = {
  ...injectedFaultReasons,
  'line error (INTERNAL, Vertex status)': /error 500 INTERNAL/,
  'Cloud Storage 429/503': /rateLimitExceeded|backendError/,
};

/** Nothing went to the Developer API's Files API, and one more run sends nothing and creates no job. */
async function checkNothingLeft(options: { harness: FaultHarness; project: Project; runs: RunRecord[] }): Promise<void> {
  const { harness, project, runs } = options;
  expect(runs.map((run) => run.uploads), describeRuns(runs)).toEqual(runs.map(() => 0));
  const before = await harness.admin.readStats();
  const extra = await runChargen(harness, project, []);
  runs.push(extra);
  const after = await harness.admin.readStats();
  expect(extra.code, describeRuns(runs)).toBe(0);
  expect(extra.summary?.stages, describeRuns(runs)).toMatchObject({ analyze: { requestsSent: 0 }, synthesize: { requestsSent: 0 } });
  expect(after.requestsByModel, describeRuns(runs)).toEqual(before.requestsByModel);
  expect(after.batchesCreated, describeRuns(runs)).toBe(before.batchesCreated);
  expect(after.uploads, describeRuns(runs)).toBe(before.uploads);
}

const sumCounts = (counts: Record<string, number>) => Object.values(counts).reduce((total, count) => total + count, 0);

/**
 * Every line answered was paid for once: the emulator counts each line it answers, line errors included, and a job
 * that ends EXPIRED or FAILED answers none; so both stages together answered two lines per input (its analysis and
 * its image) and one more per injected line error. A line answered twice (a result lost and asked again) shows here.
 */
function checkPaidOnce(options: { project: Project; statsBefore: EmulatorStats; statsAfter: EmulatorStats; report: string }): void {
  const { statsBefore, statsAfter } = options;
  const answered = sumCounts(statsAfter.requestsByModel) - sumCounts(statsBefore.requestsByModel);
  const lineErrors = (statsAfter.faultsInjected['lineError'] ?? 0) - (statsBefore.faultsInjected['lineError'] ?? 0);
  expect(answered, `lines answered (line errors drawn: ${lineErrors})\n${options.report}`).toBe(2 * options.project.inputs.length + lineErrors);
}

const harness = useFaultHarness({
  faults: baseFaults,
  // No key anywhere: a Vertex backend needs none, and must not pick the Gemini API up from one.
  backend: (admin) => ({ config: { backend: 'vertex', vertex }, env: { GEMINI_API_KEY: '', GOOGLE_API_KEY: '' }, listJobs: () => admin.listPredictionJobs(vertex) }),
});

describe('a whole run on the Vertex AI backend under injected faults', () => {
  it('A: 429/503s on Cloud Storage and Vertex AI, line errors, an EXPIRED and a FAILED job and a cut download: the run completes and nothing is lost', async (context: TestContext) => {
    const startedAt = performance.now();
    const { admin } = harness;
    await admin.reset(); // faults as in the --faults file: dice from the seed, job outcomes and the cut armed again
    const settings = { ...gemini, maxRounds: 5 };
    const project = await createProject(harness, { name: 'vertex-a', gemini: settings });
    const statsBefore = await admin.readStats();
    const runs: RunRecord[] = [];
    context.onTestFailed(() => keepForInspection(harness, { name: 'A', project, runs }));

    await runUntilDone({ harness, project, args: [], runs, allowed: vertexFaultReasons, maxRounds: settings.maxRounds });
    const report = describeRuns(runs);
    expect(runs.at(-1)?.code, report).toBe(0);
    await checkFinalOutputs(project, report);
    const statsAfter = await admin.readStats();
    const drawn = describeFaults(statsBefore, statsAfter);
    // The faults that are not left to the dice were all drawn, and the dice reached both Vertex AI and Cloud Storage.
    expect(drawn, report).toMatch(/downloadCut 1.*job:EXPIRED 1.*job:FAILED 1/);
    expect(drawn, report).toMatch(/(429|503):batchPredictionJobs\./);
    expect(drawn, report).toMatch(/(429|503):storage\.objects\./);
    checkPaidOnce({ project, statsBefore, statsAfter, report });
    const costs = await auditJobs({ harness, project, statsBefore, runs, maxRounds: settings.maxRounds });
    await checkNothingLeft({ harness, project, runs });
    reportScenario({ name: 'A', runs, costs, statsBefore, statsAfter, startedAt });
  }, 90_000);

  it('C: a job EXPIRED with no round left dead-letters its lines by input and cause; reruns finish', async (context: TestContext) => {
    const startedAt = performance.now();
    const { admin } = harness;
    await admin.reset();
    await admin.replaceFaults({ ...baseFaults, seed: 'vertex-faults-c', jobOutcomes: [{ outcome: 'EXPIRED', displayNameContains: '-analyze-', count: 1 }] });
    const settings = { ...gemini, maxRounds: 1 };
    const project = await createProject(harness, { name: 'vertex-c', gemini: settings });
    const statsBefore = await admin.readStats();
    const runs: RunRecord[] = [];
    context.onTestFailed(() => keepForInspection(harness, { name: 'C', project, runs }));

    // maxRuns 6: once reruns retry, each line still meets a 10% line error in every run, with one round per run.
    await runUntilDone({ harness, project, args: [], runs, allowed: vertexFaultReasons, maxRounds: settings.maxRounds, maxRuns: 6 });
    const report = describeRuns(runs);
    expect(runs[0]?.code, report).toBe(3);
    const jobName = /^job projects\/[^/]+\/locations\/[^/]+\/batchPredictionJobs\/\d+ ended JOB_STATE_EXPIRED \(after 1 rounds?\)$/;
    expect(runs[0]?.summary?.deadLetter, report).toEqual(project.inputs.map((source) => ({ stage: 'analyze', source, reason: expect.stringMatching(jobName) })));
    expect(runs[0]?.summary?.outputs, report).toEqual([]);
    expect(runs[1]?.summary?.stages.analyze.requestsSent, report).toBeGreaterThan(0);
    expect(runs.at(-1)?.code, report).toBe(0);
    await checkFinalOutputs(project, report);

    const statsAfter = await admin.readStats();
    checkPaidOnce({ project, statsBefore, statsAfter, report });
    const costs = await auditJobs({ harness, project, statsBefore, runs, maxRounds: settings.maxRounds });
    await checkNothingLeft({ harness, project, runs });
    reportScenario({ name: 'C', runs, costs, statsBefore, statsAfter, startedAt });
  }, 90_000);

  it('S: --mode sync under 429/503s on generateContent and Cloud Storage: every image made, each line paid once', async (context: TestContext) => {
    const startedAt = performance.now();
    const { admin } = harness;
    await admin.reset();
    await admin.replaceFaults({ ...baseFaults, seed: 'vertex-faults-s' });
    const settings = { ...gemini, maxRounds: 5 };
    const project = await createProject(harness, { name: 'vertex-s', gemini: settings });
    const statsBefore = await admin.readStats();
    const runs: RunRecord[] = [];
    context.onTestFailed(() => keepForInspection(harness, { name: 'S', project, runs }));

    await runUntilDone({ harness, project, args: ['--mode', 'sync'], runs, allowed: vertexFaultReasons, maxRounds: settings.maxRounds });
    const report = describeRuns(runs);
    expect(runs.at(-1)?.code, report).toBe(0);
    await checkFinalOutputs(project, report);
    const statsAfter = await admin.readStats();
    expect(describeFaults(statsBefore, statsAfter), report).toMatch(/(429|503):publisherModels\.generateContent/);
    // Sync calls have no line errors (those are drawn for batch lines only): one answer per input and stage.
    checkPaidOnce({ project, statsBefore, statsAfter, report });
    expect(statsAfter.generateContentCalls - statsBefore.generateContentCalls, report).toBe(2 * project.inputs.length);
    expect(statsAfter.batchesCreated, report).toBe(statsBefore.batchesCreated);
    await checkNothingLeft({ harness, project, runs });
    reportScenario({ name: 'S', runs, costs: [], statsBefore, statsAfter, startedAt });
  }, 90_000);

  it('leaves the emulator without a warning (an emulator bug would make every other check meaningless)', () => {
    expect(harness.emulator.stderr.filter((line) => /warning/i.test(line))).toEqual([]);
  });
});
