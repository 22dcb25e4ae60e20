/**
 * bench/flow.ts (`npm run bench:flow`): how chunks flow through the stages on `chargen emulator` with batch latencies,
 * over N generated small images: once with no fault, once with one analysis job left STUCK_PENDING (the emulator's
 * faults file). Prints time to the first image against time to the last, the images made while the stuck job waits,
 * the jobs created, images paid for twice and lines held by two live jobs at once. With `--compare <chargen.js>`
 * (another checkout, e.g. main's) the same runs go through that binary too, and the ratios are of this run.
 *
 *   npm run bench:flow -- [--images 400] [--chunk 50] [--pending-ms 3000] [--running-ms 6000] [--window 60] [--compare ../main/bin/chargen.js]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chargenBinary, startEmulatorProcess } from '../test/support/chargen-process.ts';
import { createEmulatorAdmin } from '../test/support/emulator-admin.ts';
import { createInputImages, createProject } from './soak/run-chargen.ts';
import { auditFlowJobs, type JobAudit } from './flow/audit-flow-jobs.ts';
import { measureFlowRun, type MeasuredFlowRun } from './flow/measure-run.ts';

const apiKey = 'flow-bench-key-for-the-emulator-5d21';
const imageModel = 'gemini-3-pro-image';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '400' },
    chunk: { type: 'string', default: '50' },
    'pending-ms': { type: 'string', default: '3000' },
    'running-ms': { type: 'string', default: '6000' },
    window: { type: 'string', default: '60' },
    compare: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const count = Number(values.images);
const chunkLines = Number(values.chunk);
const latency = { pendingMilliseconds: Number(values['pending-ms']), runningMilliseconds: Number(values['running-ms']) };
const windowMilliseconds = Number(values.window) * 1000;
const jobMilliseconds = latency.pendingMilliseconds + latency.runningMilliseconds;

interface ScenarioResult {
  run: MeasuredFlowRun;
  jobs: JobAudit;
  doubled: number;
}

async function runScenario(options: { root: string; name: string; binary: string; stuck: boolean }): Promise<ScenarioResult> {
  const faultsPath = join(options.root, `${options.name}.faults.json`);
  const faults = options.stuck ? { jobOutcomes: [{ outcome: 'STUCK_PENDING', displayNameContains: '-analyze-', count: 1 }] } : {};
  await writeFile(faultsPath, JSON.stringify(faults));
  const emulator = await startEmulatorProcess({ ...latency, faultsPath });
  try {
    const project = await createProject({ root: options.root, name: options.name, images: createInputImages({ count, seed: 'flow-bench' }), chunkLines });
    const env = { ...process.env, GEMINI_API_KEY: apiKey, GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl };
    // No fault: the run goes to its end (ten minutes at most); stuck: it is watched for the window, then stopped.
    const run = await measureFlowRun({ binary: options.binary, project: project.directory, outputDirectory: project.outputDirectory, env, windowMilliseconds: options.stuck ? windowMilliseconds : 600_000 });
    const admin = createEmulatorAdmin(emulator.baseUrl);
    const stats = await admin.readStats();
    const jobs = await auditFlowJobs({ jobs: await admin.listBatchJobs(apiKey), workspaceDirectory: project.workspaceDirectory, now: Date.parse(stats.clock.now) });
    // Images paid for twice: answers the emulator gave beyond the distinct keys the run asked for (or, without job
    // records, beyond the images placed, which a run stopped mid-way can make look worse than it is).
    const answered = stats.requestsByModel[imageModel] ?? 0;
    return { run, jobs, doubled: Math.max(0, answered - (jobs.imageKeys ?? run.images)) };
  } finally {
    await emulator.stop();
  }
}

const seconds = (milliseconds: number | undefined) => (milliseconds === undefined ? '—' : `${(milliseconds / 1000).toFixed(1)} s`);
const ratio = (ours: number | undefined, theirs: number | undefined) => (ours === undefined || theirs === undefined || theirs === 0 ? '—' : (ours / theirs).toFixed(2));

function describe(label: string, clean: ScenarioResult, stuck: ScenarioResult): string[] {
  return [
    `${label}:`,
    `  no fault: first image ${seconds(clean.run.firstImageMilliseconds)}, last ${seconds(clean.run.lastImageMilliseconds)}, run ${seconds(clean.run.elapsedMilliseconds)} (exit ${clean.run.ended}); ${clean.run.images}/${count} images`,
    `  stuck analysis job: ${stuck.run.images}/${count} images in ${seconds(stuck.run.elapsedMilliseconds)} (${stuck.run.ended === 'stopped' ? 'stopped at the window' : `exit ${stuck.run.ended}`}); first ${seconds(stuck.run.firstImageMilliseconds)}, last ${seconds(stuck.run.lastImageMilliseconds)}` +
      (stuck.run.lastImageMilliseconds !== undefined ? ` (${(stuck.run.lastImageMilliseconds / jobMilliseconds).toFixed(1)} job times)` : ''),
    `  jobs created: ${clean.jobs.jobsCreated} (no fault), ${stuck.jobs.jobsCreated} (stuck); images doubled: ${clean.doubled}, ${stuck.doubled}; lines in two live jobs at once: ${clean.jobs.linesInTwoLiveJobs}, ${stuck.jobs.linesInTwoLiveJobs} (from ${clean.jobs.source})`,
  ];
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'chargen-flow-bench-'));
  const binaries = [{ label: 'this checkout', binary: chargenBinary }, ...(values.compare ? [{ label: `compare (${values.compare})`, binary: resolve(values.compare) }] : [])];
  const chunks = Math.ceil(count / chunkLines);
  console.log(`flow bench: ${count} images, chunkMaxLines ${chunkLines} (${chunks} chunks), jobs pending ${seconds(latency.pendingMilliseconds)} / running ${seconds(latency.runningMilliseconds)}, stuck window ${seconds(windowMilliseconds)}`);
  const results: { label: string; clean: ScenarioResult; stuck: ScenarioResult }[] = [];
  try {
    for (const [index, { label, binary }] of binaries.entries()) {
      const clean = await runScenario({ root, name: `run-${index}-clean`, binary, stuck: false });
      const stuck = await runScenario({ root, name: `run-${index}-stuck`, binary, stuck: true });
      results.push({ label, clean, stuck });
      for (const line of describe(label, clean, stuck)) console.log(line);
    }
    const [ours, theirs] = results;
    if (ours && theirs) {
      console.log('ratios (this checkout / compare, same machine, same run):');
      console.log(`  no fault: first image ${ratio(ours.clean.run.firstImageMilliseconds, theirs.clean.run.firstImageMilliseconds)}, last image ${ratio(ours.clean.run.lastImageMilliseconds, theirs.clean.run.lastImageMilliseconds)}, run ${ratio(ours.clean.run.elapsedMilliseconds, theirs.clean.run.elapsedMilliseconds)}`);
      console.log(`  stuck: images made in the window ${ours.stuck.run.images} against ${theirs.stuck.run.images}`);
    }
  } finally {
    if (!values.keep) await rm(root, { recursive: true, force: true });
    else console.log(`kept: ${root}`);
  }
}

await main();
