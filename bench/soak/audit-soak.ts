import type { JobRecord } from '../../lib/gemini/job-record.ts';
import { openWorkspace } from '../../lib/store/open-workspace.ts';
import { readImageSidecar } from '../../stages/synthesize/image-sidecar.ts';
import { readSynthesisState } from '../../stages/synthesize/synthesize-checkpoint.ts';
import { contactSheetFileName } from '../../stages/synthesize/write-contact-sheet.ts';
import { readWorkspaceJobRecords } from '../../test/support/read-workspace-job-records.ts';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ListedJob } from '../../test/support/emulator-admin.ts';
import { type Failure, type Project, describeRun } from './run-chargen.ts';
import { type RunningEmulator } from './soak-emulator.ts';
import { reasonCategories } from './soak-settings.ts';
import { type MeasuredRun } from './spawn-measured.ts';
// ---------------------------------------------------------------------------------------------------------------
// The audit.

export interface OutputAudit {
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

export function isTemporaryName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('.tmp');
}

export async function auditOutputs(options: { project: Project; failures: readonly Failure[] }): Promise<OutputAudit> {
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
  const checkpoint = await readSynthesisState(project.workspaceDirectory).catch(() => undefined);
  return {
    inputs: project.inputNames.length,
    exactlyOnce: project.inputNames.filter((input) => wholeBySource.get(input) === 1).length,
    lost: project.inputNames.filter((input) => (wholeBySource.get(input) ?? 0) === 0 && !unfixable.has(input)),
    doubled: project.inputNames.filter((input) => (wholeBySource.get(input) ?? 0) > 1),
    broken,
    strayImages: names.filter((name) => !isTemporaryName(name) && !name.endsWith('.json') && name !== contactSheetFileName && !referenced.has(name)),
    temporaryFiles: names.filter(isTemporaryName),
    checkpointOutputs: checkpoint?.outputs ?? 0,
  };
}

export interface JobAudit {
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

export async function auditJobs(options: { project: Project; emulator: RunningEmulator; batchesCreated: number }): Promise<JobAudit> {
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
export function describeChunkHistory(options: { chunk: string; jobs: JobAudit; runs: readonly MeasuredRun[] }): string[] {
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

export function categorizeReason(reason: string): string {
  for (const [category, pattern] of reasonCategories) if (pattern.test(reason)) return category;
  return reason.replace(/batches\/[a-z0-9]+/g, 'batches/…').replace(/files\/[a-z0-9-]+/g, 'files/…').slice(0, 80);
}

export function countFailures(failures: readonly Failure[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const failure of failures) {
    const key = `${failure.stage}: ${categorizeReason(failure.reason)}${failure.retryable ? '' : ' (not retryable)'}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort(([left], [right]) => left.localeCompare(right));
  return entries.length === 0 ? 'none' : entries.map(([name, count]) => `${name} ×${count}`).join('; ');
}

export function formatDuration(milliseconds: number): string {
  const seconds = Math.round(milliseconds / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/** The code measured: others edit the working tree too, so a figure is only worth the commit and changes it ran on. */
export function describeCodeVersion(): string {
  const directory = join(import.meta.dirname, '..', '..');
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: directory, encoding: 'utf8' }).stdout.trim();
  const changed = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: directory, encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
  if (!commit) return 'not a git checkout';
  return changed > 0 ? `commit ${commit} + uncommitted changes to ${changed} files` : `commit ${commit}`;
}

export function formatThousands(value: number): string {
  return value.toLocaleString('en-US');
}
