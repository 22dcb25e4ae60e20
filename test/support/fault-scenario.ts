import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { chargenBinary, runNodeProcess, type EmulatorProcess } from './chargen-process.ts';
import { createSamplePng } from './sample-images.ts';
import type { EmulatorAdmin, ListedJob } from './emulator-admin.ts';
import type { RunJsonSummary } from '../../pipeline/cli/run-command.ts';
import type { StageName } from '../../stages/stage-step.ts';

/**
 * Whole `chargen run`s as child processes against a `chargen emulator --faults` child process, for the fault suites
 * of every backend (test/reliability/faults.test.ts on the Gemini API, test/vertex/vertex-faults.test.ts on Vertex
 * AI): the project, the run loop and what must hold after any run whatever the seeded dice said.
 */

const root = join(import.meta.dirname, '..', '..');
const extraImages = ['barbarian', 'cleric', 'monk', 'paladin', 'sorcerer', 'warlock'];
/** Runs of one scenario after which it stops: a correct chargen needs one, rarely two. */
const defaultMaxRuns = 4;

/** Each fault that may explain a dead-lettered item, by the words its reason carries. */
export const injectedFaultReasons: Record<string, RegExp> = {
  'line error (INTERNAL)': /error 13 INTERNAL/,
  'job EXPIRED': /ended JOB_STATE_EXPIRED/,
  'job FAILED': /ended JOB_STATE_FAILED/,
  'endpoint 429/503': /RESOURCE_EXHAUSTED|UNAVAILABLE|\b429\b|\b503\b/,
  'cut download': /download of files\/batch-/,
};

/** The backend a suite runs on: what goes into the config, the environment, and how its jobs are listed. */
export interface FaultHarness {
  emulator: EmulatorProcess;
  admin: EmulatorAdmin;
  /** Config members beside `compile` and `gemini` (`backend`, `vertex`). */
  config: Record<string, unknown>;
  /** The child's environment on top of this process's (CHARGEN_BASE_URL is added). */
  env: NodeJS.ProcessEnv;
  /** A secret that must appear nowhere chargen writes or prints, if the backend takes one. */
  secret?: string;
  /** Every job the backend lists, of every workspace. */
  listJobs(): Promise<ListedJob[]>;
  /** Project folders made so far, removed after the suite (except those kept to look at). */
  projects: string[];
}

export interface RunRecord {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  summary: RunJsonSummary | undefined;
  seconds: number;
  /** Emulator counters moved by this run. */
  uploads: number;
  batchesCreated: number;
}

export interface Project {
  directory: string;
  inputs: string[];
  outputDirectory: string;
  workspaceDirectory: string;
}

export interface ScenarioRecord {
  project: Project;
  runs: RunRecord[];
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

export function describeRuns(runs: readonly RunRecord[]): string {
  return runs
    .map((run, index) => `run ${index + 1}: chargen ${run.args.join(' ')} → exit ${run.code} in ${run.seconds.toFixed(1)} s\n${run.stderr}${run.stdout}`)
    .join('\n');
}

export function keepForInspection(harness: FaultHarness, scenario: ScenarioRecord & { name: string }): void {
  harness.projects.splice(harness.projects.indexOf(scenario.project.directory), 1);
  console.error(`scenario ${scenario.name} failed; its project is kept in ${scenario.project.directory}\n${describeRuns(scenario.runs)}`);
}

/** The sample inputs and six more characters, square 1K images, the given `gemini` settings. */
export async function createProject(harness: FaultHarness, options: { name: string; gemini: Record<string, number> }): Promise<Project> {
  const directory = await mkdtemp(join(tmpdir(), `chargen-faults-${options.name}-`));
  harness.projects.push(directory);
  await cp(join(root, 'input_images'), join(directory, 'input_images'), { recursive: true });
  for (const name of extraImages) await writeFile(join(directory, 'input_images', `${name}.png`), createSamplePng(name));
  const config = { ...harness.config, compile: { imageConfig: { aspectRatio: '1:1', imageSize: '1K' } }, gemini: options.gemini };
  await writeFile(join(directory, 'chargen.config.json'), JSON.stringify(config, null, 2));
  const inputs = (await readdir(join(directory, 'input_images'))).sort();
  return { directory, inputs, outputDirectory: join(directory, 'final_characters'), workspaceDirectory: join(directory, '.chargen') };
}

export async function runChargen(harness: FaultHarness, project: Project, args: string[]): Promise<RunRecord> {
  const before = await harness.admin.readStats();
  const startedAt = performance.now();
  const fullArgs = ['run', ...args, '--yes', '--json', '--poll-interval', '100'];
  const env = { ...process.env, ...harness.env, CHARGEN_BASE_URL: harness.emulator.baseUrl };
  const result = await runNodeProcess({ cwd: project.directory, args: [chargenBinary, ...fullArgs], env });
  const after = await harness.admin.readStats();
  let summary: RunJsonSummary | undefined;
  try {
    summary = JSON.parse(result.stdout) as RunJsonSummary;
  } catch {
    summary = undefined;
  }
  return {
    args: fullArgs,
    ...result,
    summary,
    seconds: (performance.now() - startedAt) / 1000,
    uploads: after.uploads - before.uploads,
    batchesCreated: after.batchesCreated - before.batchesCreated,
  };
}

/** Which injected fault explains a reason, if any. */
export function explainReason(reason: string, allowed: Record<string, RegExp>): string | undefined {
  return Object.entries(allowed).find(([, pattern]) => pattern.test(reason))?.[0];
}

/** The summary's dead letters name each failed input once, with a reason an injected fault explains. */
function checkDeadLetters(options: { project: Project; summary: RunJsonSummary; allowed: Record<string, RegExp>; report: string }): void {
  const { project, summary, report } = options;
  for (const letter of summary.deadLetter) {
    expect(project.inputs, `dead letter ${JSON.stringify(letter)} names an input\n${report}`).toContain(letter.source);
    expect(explainReason(letter.reason, options.allowed), `no injected fault explains ${JSON.stringify(letter)}\n${report}`).toBeDefined();
  }
  const named = summary.deadLetter.map((letter) => `${letter.stage} ${letter.source}`);
  expect(new Set(named).size, `an item dead-lettered twice\n${report}`).toBe(named.length);
}

/**
 * What must hold after any run, whatever the dice said: exit 0 or 3 and a summary that says the same; a dead-letter
 * list naming each failed input once with a reason an injected fault explains; every input either made or listed;
 * and the secret, if any, nowhere on disk or in what the process printed.
 */
export async function checkRun(options: { harness: FaultHarness; project: Project; run: RunRecord; runs: readonly RunRecord[]; allowed: Record<string, RegExp>; synthesizes: boolean }): Promise<void> {
  const { project, run, runs } = options;
  const report = describeRuns(runs);
  expect([0, 3], report).toContain(run.code);
  const summary = run.summary;
  if (!summary) throw new Error(`no JSON summary on stdout\n${report}`);
  expect(summary.exitCode, report).toBe(run.code);
  expect(summary.deadLetter.length > 0, report).toBe(run.code === 3);
  checkDeadLetters({ project, summary, allowed: options.allowed, report });

  const analyzeFailures = summary.deadLetter.filter((letter) => letter.stage === 'analyze').map((letter) => letter.source);
  expect(summary.stages.analyze.succeeded + summary.stages.analyze.failed, report).toBe(project.inputs.length);
  expect(summary.stages.analyze.failed, report).toBe(analyzeFailures.length);
  if (options.synthesizes) {
    // Each input is made, or listed as failed at one stage: never both, never neither.
    const made = summary.outputs.map((output) => relative('input_images', output.source));
    const failed = summary.deadLetter.map((letter) => letter.source);
    expect([...made, ...failed].sort(), `inputs made or dead-lettered\n${report}`).toEqual(project.inputs);
    for (const output of summary.outputs) {
      const stem = relative('input_images', output.source).replace(/\.png$/, '');
      expect(output, report).toEqual({ source: `input_images/${stem}.png`, image: `final_characters/${stem}.jpg`, sidecar: `final_characters/${stem}.json` });
    }
  }

  const secret = options.harness.secret;
  if (secret === undefined) return;
  for (const [stream, text] of [['stdout', run.stdout], ['stderr', run.stderr]] as const) {
    expect(text.includes(secret), `the API key in ${stream}\n${report}`).toBe(false);
  }
  for (const file of [...(await listFiles(project.workspaceDirectory)), ...(await listFiles(project.outputDirectory))]) {
    expect((await readFile(file)).includes(secret), `the API key in ${relative(project.directory, file)}`).toBe(false);
  }
}

async function snapshotOutputs(project: Project): Promise<Map<string, string>> {
  const snapshot = new Map<string, string>();
  for (const file of await listFiles(project.outputDirectory)) snapshot.set(relative(project.outputDirectory, file), sha256(await readFile(file)));
  // The contact sheet is an index of the run, rewritten when what it lists changes; images and sidecars are not.
  snapshot.delete('index.html');
  return snapshot;
}

/** A rerun after exit 3 sends only what is left: the lines of the items dead-lettered last time, over its rounds. */
function checkRerunSends(options: { previous: RunJsonSummary; summary: RunJsonSummary; maxRounds: number; report: string }): void {
  const letters = options.previous.deadLetter;
  const left = (stage: StageName) => letters.filter((letter) => letter.stage === stage).length;
  expect(options.summary.stages.analyze.requestsSent, options.report).toBeLessThanOrEqual(options.maxRounds * left('analyze'));
  expect(options.summary.stages.synthesize.requestsSent, options.report).toBeLessThanOrEqual(options.maxRounds * (left('analyze') + left('synthesize')));
}

/**
 * `chargen run` with the given arguments until it exits 0, or makes no progress (exit 3, nothing sent, the same
 * dead letters), or `maxRuns` went by; each run is checked, and what an earlier run made must still be there, byte for
 * byte, and must not be asked again.
 */
export async function runUntilDone(options: {
  harness: FaultHarness;
  project: Project;
  args: string[];
  runs: RunRecord[];
  allowed: Record<string, RegExp>;
  maxRounds: number;
  maxRuns?: number;
}): Promise<void> {
  const { harness, project, runs } = options;
  const synthesizes = !options.args.includes('--only') || options.args.includes('synthesize');
  for (let index = 0; index < (options.maxRuns ?? defaultMaxRuns); index += 1) {
    const previous = runs.at(-1);
    const made = await snapshotOutputs(project);
    const run = await runChargen(harness, project, options.args);
    runs.push(run);
    await checkRun({ harness, project, run, runs, allowed: options.allowed, synthesizes });
    const after = await snapshotOutputs(project);
    for (const [name, hash] of made) expect(after.get(name), `${name}, made by an earlier run\n${describeRuns(runs)}`).toBe(hash);

    const summary = run.summary as RunJsonSummary;
    if (previous?.summary && previous.code === 3) checkRerunSends({ previous: previous.summary, summary, maxRounds: options.maxRounds, report: describeRuns(runs) });
    if (run.code === 0) return;
    const sent = summary.stages.analyze.requestsSent + summary.stages.synthesize.requestsSent;
    const sameLetters = JSON.stringify(summary.deadLetter) === JSON.stringify(previous?.summary?.deadLetter);
    if (previous && sent === 0 && sameLetters) return;
  }
}
