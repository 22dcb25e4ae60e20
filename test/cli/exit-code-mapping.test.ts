// One error path: every error code has a kind, and exitCodeFor is the one mapping of failures and outcomes to the exit
// codes README.md "Exit codes" lists (the contract). The table below is written out by hand, code by code, so that a
// code moved to another kind is a test to change on purpose, not a silent new exit code.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ApiUnreachableError,
  ChargenError,
  CheckpointError,
  ConfigError,
  DownloadError,
  errorCodes,
  errorKinds,
  exitCodeFor,
  exitCodes,
  GeminiCallError,
  InterruptedError,
  JobsPendingError,
  kindOf,
  MissingApiKeyError,
  outcomeStatuses,
  UsageError,
  WorkspaceFileError,
  WorkspaceLockedError,
  WorkspaceMissingError,
  type ErrorCode,
  type OutcomeStatus,
} from '../../lib/errors.ts';
import { ModelNotServedError } from '../../lib/gemini/check-models.ts';
import { TemplateError } from '../../stages/compile/load-prompt-templates.ts';
import { RunInputError } from '../../pipeline/config/check-run-inputs.ts';
import { CassetteError } from '../../emulator/cassette/cassette-error.ts';

const expectedExitCodes: Record<ErrorCode, number> = {
  // 2: usage, config or workspace error (the message says what to fix).
  usage: 2,
  'confirmation-needed': 2,
  forbidden: 2,
  'not-found': 2,
  'config-invalid': 2,
  'missing-api-key': 2,
  'template-invalid': 2,
  'model-not-served': 2,
  'cassette-invalid': 2,
  'input-invalid': 2,
  'workspace-file-invalid': 2,
  'workspace-missing': 2,
  'workspace-locked': 2,
  'checkpoint-missing': 2,
  // 1: the API failed beyond retries or cannot be reached, the port is taken, or chargen's own mistake.
  'gemini-call-failed': 1,
  'download-failed': 1,
  'api-unreachable': 1,
  'listen-failed': 1,
  'disk-full': 1,
  'plan-missing': 1,
  'schema-conversion-failed': 1,
  internal: 1,
  // 4: stopped with everything saved (jobs still pending, or interrupted): run again to pick them up.
  'jobs-pending': 4,
  interrupted: 4,
};

const expectedOutcomeExitCodes: Record<OutcomeStatus, number> = {
  done: 0,
  planned: 0,
  declined: 1,
  'dead-lettered': 3,
  pending: 4,
  interrupted: 4,
  'checks-failed': 2,
};

describe('exitCodeFor', () => {
  it('gives every error code a kind, and the documented exit code', () => {
    expect(Object.keys(errorCodes).sort()).toEqual(Object.keys(expectedExitCodes).sort());
    for (const code of Object.keys(errorCodes) as ErrorCode[]) {
      expect(errorKinds, code).toContain(kindOf(code));
      expect(exitCodeFor(new ChargenError({ code, message: code })), code).toBe(expectedExitCodes[code]);
    }
  });

  it('gives every outcome status its exit code', () => {
    expect([...outcomeStatuses].sort()).toEqual(Object.keys(expectedOutcomeExitCodes).sort());
    for (const status of outcomeStatuses) expect(exitCodeFor({ status }), status).toBe(expectedOutcomeExitCodes[status]);
  });

  it('maps each error class by its code, whichever command reports it', () => {
    expect(exitCodeFor(new DownloadError({ fileName: 'files/x', message: 'gone' }))).toBe(1);
    expect(exitCodeFor(new GeminiCallError({ operation: 'batches.get', status: 500, message: 'boom', isRetryable: false }))).toBe(1);
    expect(exitCodeFor(new ApiUnreachableError({ host: 'example.invalid', detail: 'ENOTFOUND', advice: 'check the network' }))).toBe(1);
    expect(exitCodeFor(new MissingApiKeyError())).toBe(2);
    expect(exitCodeFor(new MissingApiKeyError({ message: 'this workspace runs on the Gemini API' }))).toBe(2);
    expect(exitCodeFor(new ConfigError({ problems: ['mode: expected batch or sync'] }))).toBe(2);
    expect(exitCodeFor(new CheckpointError({ message: 'stale' }))).toBe(2);
    expect(exitCodeFor(new WorkspaceLockedError({ message: 'held' }))).toBe(2);
    expect(exitCodeFor(new WorkspaceMissingError({ directory: '/nowhere' }))).toBe(2);
    expect(exitCodeFor(new WorkspaceFileError({ path: 'x.json', problem: 'not JSON', fix: 'delete it' }))).toBe(2);
    expect(exitCodeFor(new UsageError({ message: 'no' }))).toBe(2);
    expect(exitCodeFor(new ModelNotServedError({ model: 'gemini-0', message: 'retired' }))).toBe(2);
    expect(exitCodeFor(new TemplateError({ template: 'x.hbs', problem: 'no such field' }))).toBe(2);
    expect(exitCodeFor(new RunInputError({ problems: ['no input folder'] }))).toBe(2);
    expect(exitCodeFor(new CassetteError({ path: 'c.json', problem: 'not JSON' }))).toBe(2);
    expect(exitCodeFor(new JobsPendingError({ stage: 'analyze', pendingJobs: 1 }))).toBe(4);
    expect(exitCodeFor(new InterruptedError())).toBe(4);
  });

  it('takes anything that is no ChargenError for chargen’s own mistake: exit 1', () => {
    expect(exitCodeFor(new TypeError('undefined is not a function'))).toBe(1);
  });

  it('uses only the exit codes the README lists', async () => {
    const readme = await readFile(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| (\d) \| /gm)].map((match) => Number(match[1]));
    expect(documented).toEqual([0, 1, 2, 3, 4]);
    expect(Object.values(exitCodes).sort()).toEqual(documented);
  });
});

describe('every error class extends ChargenError', () => {
  it('jobs left pending and a missing key, each a ChargenError with its code', () => {
    expect(new JobsPendingError({ stage: 'synthesize', pendingJobs: 2 })).toBeInstanceOf(ChargenError);
    expect(new JobsPendingError({ stage: 'synthesize', pendingJobs: 2 }).code).toBe('jobs-pending');
    expect(new MissingApiKeyError({ message: 'set the key' }).code).toBe('missing-api-key');
    expect(new MissingApiKeyError({ message: 'set the key' }).message).toBe('set the key');
  });
});
