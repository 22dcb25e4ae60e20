import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { readSynthesizeCheckpoint } from '../../stages/synthesize/synthesize-checkpoint.ts';
import { inspectImage } from '../../lib/media/inspect-image.ts';
import { readWorkspaceJobRecords } from './read-workspace-job-records.ts';
import { describeRuns, sha256, type FaultHarness, type Project, type RunRecord } from './fault-scenario.ts';
import type { EmulatorStats, ListedJob } from './emulator-admin.ts';

/** Each of these inputs has exactly one image and one sidecar, whole, named after it, and nothing else is in the folder. */
export async function checkOutputFolder(project: Project, options: { sources: readonly string[]; report: string }): Promise<void> {
  const { report } = options;
  const stems = options.sources.map((input) => input.replace(/\.png$/, ''));
  const files = (await readdir(project.outputDirectory).catch(() => [] as string[])).sort();
  expect(files, report).toEqual([...stems.flatMap((stem) => [`${stem}.json`, `${stem}.jpg`, `${stem}.thought-signature`]), 'index.html'].sort());
  for (const stem of stems) {
    const sidecar = JSON.parse(await readFile(join(project.outputDirectory, `${stem}.json`), 'utf8')) as {
      source: { path: string };
      image: { file: string; bytes: number; sha256: string; width: number; height: number };
      imageConfig: unknown;
    };
    expect(sidecar.source.path).toBe(`${stem}.png`);
    expect(sidecar.image.file).toBe(`${stem}.jpg`);
    expect(sidecar.imageConfig).toEqual({ aspectRatio: '1:1', imageSize: '1K' });
    const image = await readFile(join(project.outputDirectory, `${stem}.jpg`));
    expect(inspectImage(image), stem).toMatchObject({ ok: true, format: 'jpeg', width: 1024, height: 1024 });
    expect(image.length, stem).toBe(sidecar.image.bytes);
    expect(sha256(image), stem).toBe(sidecar.image.sha256);
  }
}

/** Every input made, and the synthesize checkpoint says so. */
export async function checkFinalOutputs(project: Project, report: string): Promise<void> {
  await checkOutputFolder(project, { sources: project.inputs, report });
  const checkpoint = (await readSynthesizeCheckpoint(project.workspaceDirectory)) ?? { outputs: [], failures: [] };
  expect(checkpoint.outputs, report).toHaveLength(project.inputs.length);
  expect(checkpoint.failures, report).toEqual([]);
}

/** A chunk's attempts run 1, 2, … with no gap, each submitted after the one before had ended. */
function checkAttempts(options: { chunk: string; jobs: readonly ListedJob[]; recordStatus: (displayName: string) => string | undefined; listing: string }): void {
  const { chunk, listing } = options;
  const attempts = options.jobs.map((job) => Number(/-(\d+)$/.exec(job.displayName)?.[1])).sort((left, right) => left - right);
  expect(attempts, `attempts of ${chunk}\n${listing}`).toEqual(attempts.map((_, index) => index + 1));
  for (const attempt of attempts.slice(1)) {
    expect(options.recordStatus(`${chunk}-${attempt - 1}`), `${chunk}-${attempt} was submitted after attempt ${attempt - 1} had ended\n${listing}`).toBe('finished');
  }
}

/**
 * No chunk went to the API twice except through a recorded retry round: every job the API lists for this workspace
 * has a displayName (`chargen-<ws>-<stage>-<fp16>-<attempt>`) of its own and a job record naming it; a chunk's
 * attempts run 1, 2, … with no gap, each after the one before was followed to its end; and the emulator created no
 * job the list does not show. Returns one line per chunk: what the faults cost in jobs.
 */
export async function auditJobs(options: { harness: FaultHarness; project: Project; statsBefore: EmulatorStats; runs: readonly RunRecord[]; maxRounds: number }): Promise<string[]> {
  const { harness, project, runs } = options;
  const workspaceId = (JSON.parse(await readFile(join(project.workspaceDirectory, 'workspace.json'), 'utf8')) as { id: string }).id;
  const prefix = `chargen-${workspaceId}-`;
  const listed = (await harness.listJobs()).filter((job) => job.displayName.startsWith(prefix));
  const records = await readWorkspaceJobRecords(project.workspaceDirectory);
  const listing = `jobs of workspace ${workspaceId}:\n${listed.map((job) => `  ${job.displayName} ${job.name} ${job.state}`).join('\n')}\n${describeRuns(runs)}`;

  const displayNames = listed.map((job) => job.displayName);
  expect(displayNames.filter((name, index) => displayNames.indexOf(name) !== index), `displayNames used twice\n${listing}`).toEqual([]);
  const statsAfter = await harness.admin.readStats();
  expect(statsAfter.batchesCreated - options.statsBefore.batchesCreated, `batchesCreated against the jobs listed\n${listing}`).toBe(listed.length);
  // Bounded: at most maxRounds jobs per stage and run (one chunk per round at these sizes).
  expect(listed.length, listing).toBeLessThanOrEqual(options.maxRounds * 2 * runs.length);

  const recordByName = new Map(records.map((record) => [record.displayName, record]));
  const byChunk = new Map<string, ListedJob[]>();
  for (const job of listed) {
    const match = /^(.*)-(\d+)$/.exec(job.displayName);
    expect(match, job.displayName).not.toBeNull();
    const record = recordByName.get(job.displayName);
    expect(record?.jobName, `${job.displayName} has a job record naming ${job.name}\n${listing}`).toBe(job.name);
    const chunk = (match as RegExpExecArray)[1] as string;
    byChunk.set(chunk, [...(byChunk.get(chunk) ?? []), job]);
  }
  for (const record of records.filter((entry) => entry.jobName)) {
    expect(listed.map((job) => job.name), `the job of record ${record.displayName} is listed`).toContain(record.jobName);
  }

  const costs: string[] = [];
  for (const [chunk, jobs] of byChunk) {
    checkAttempts({ chunk, jobs, recordStatus: (displayName) => recordByName.get(displayName)?.status, listing });
    const record = recordByName.get(`${chunk}-1`);
    const states = jobs
      .sort((left, right) => left.displayName.localeCompare(right.displayName, 'en', { numeric: true }))
      .map((job) => job.state.replace(/^(BATCH|JOB)_STATE_/, '').toLowerCase());
    costs.push(`${chunk.slice(prefix.length)} (${record?.keys.length ?? '?'} lines): ${jobs.length} job${jobs.length === 1 ? '' : 's'} [${states.join(', ')}]`);
  }
  return costs;
}

export function describeFaults(before: EmulatorStats, after: EmulatorStats): string {
  const drawn = Object.entries(after.faultsInjected)
    .map(([kind, count]) => [kind, count - (before.faultsInjected[kind] ?? 0)] as const)
    .filter(([, count]) => count > 0)
    .sort(([left], [right]) => left.localeCompare(right));
  return drawn.map(([kind, count]) => `${kind} ${count}`).join(', ');
}

/** The reasons items were dead-lettered for, over every run, each with how often: what the faults cost in reruns. */
function describeDeadLetters(runs: readonly RunRecord[]): string[] {
  const reasons = new Map<string, number>();
  for (const letter of runs.flatMap((run) => run.summary?.deadLetter ?? [])) reasons.set(letter.reason, (reasons.get(letter.reason) ?? 0) + 1);
  return [...reasons].map(([reason, count]) => `  dead-lettered ${count}× ${reason}`);
}

export function reportScenario(options: { name: string; runs: readonly RunRecord[]; costs: string[]; statsBefore: EmulatorStats; statsAfter: EmulatorStats; startedAt: number }): void {
  const seconds = ((performance.now() - options.startedAt) / 1000).toFixed(1);
  console.info(
    [
      `${options.name}: ${options.runs.length} runs (exit ${options.runs.map((run) => run.code).join(', ')}; uploads ${options.runs.map((run) => run.uploads).join(', ')}) in ${seconds} s`,
      `  faults drawn: ${describeFaults(options.statsBefore, options.statsAfter)}`,
      ...(options.costs.length > 0 ? [`  jobs per chunk (1 each without faults): ${options.costs.join('; ')}`] : []),
      ...describeDeadLetters(options.runs),
    ].join('\n'),
  );
}
