import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { redactText } from '../../lib/redact-secret.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { connectBackend, type Backend } from '../connect-backend.ts';
import { ChargenError } from '../../lib/errors.ts';
import type { RetryEnvironment } from '../../lib/gemini/call-with-retry.ts';
import { resolveGeminiConnection } from '../../lib/gemini/create-gemini-client.ts';
import { geminiSettingsSchema } from '../../schemas/gemini-settings.ts';
import { toRetryPolicy } from '../../lib/gemini/apply-gemini-settings.ts';
import type { Logger } from '../../lib/logger.ts';
import { openWorkspace } from '../../lib/store/open-workspace.ts';
import { requireWorkspace } from '../workspace-status.ts';
import { checkApiKey, checkBatchList, checkModels, checkUpload, keyFix, type DoctorContext } from './doctor-checks.ts';
import { checkBucket, checkCredentials, credentialsFix } from './vertex-doctor-checks.ts';
import { resolveVertexBackend } from '../connect-vertex-backend.ts';
import { computeDoctorExitCode, type DoctorCheck, type DoctorReport } from './doctor-report.ts';
import { probeBatchParser } from './probe-batch-parser.ts';
import { backendStateDirectory } from '../../lib/store/workspace-layout.ts';

export interface RunDoctorOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The config, its models as written (see loadDoctorConfig). */
  config: ChargenConfig;
  /** The config item, first in the report. */
  configCheck: DoctorCheck;
  /** Also create a batch job and cancel it at once (the caller has asked about the cost). */
  probe: boolean;
  environment?: RetryEnvironment;
}

/** `gemini`, `emulator`, the CHARGEN_BASE_URL the checks go to, or the Vertex AI target: known without connecting. */
export async function describeConfiguredBackend(options: { config: ChargenConfig; cwd: string; env: NodeJS.ProcessEnv }): Promise<string> {
  if (options.config.backend === 'emulator') return 'emulator';
  if (options.config.backend === 'vertex') return (await resolveVertexBackend({ vertex: options.config.vertex, cwd: options.cwd, env: options.env })).label;
  const connection = await resolveGeminiConnection({ cwd: options.cwd, env: options.env });
  if (!connection) return options.config.backend === 'auto' ? 'emulator' : 'gemini';
  return connection.baseUrl ?? 'gemini';
}

/** The workspace in `workdir`, when there is one, and this backend's folder in it. */
async function findWorkspace(options: { cwd: string; config: ChargenConfig; backend: Backend }): Promise<DoctorContext['workspace']> {
  const directory = resolve(options.cwd, options.config.workdir);
  try {
    await requireWorkspace(directory);
    const { id } = await openWorkspace({ directory, now: Date.now, readOnly: true });
    return { id, stateDirectory: backendStateDirectory(directory, options.backend.identity) };
  } catch (error) {
    if (error instanceof ChargenError) return undefined;
    throw error;
  }
}

/**
 * Vertex AI: credentials, the bucket, the models, the job list. The Developer API's own items (the key, the Files API
 * upload, the batch parser probe) have no place there; the bucket's write is the upload's counterpart.
 */
async function runVertexChecks(context: DoctorContext, options: { probe: boolean }): Promise<DoctorCheck[]> {
  const { principal, ...credentials } = await checkCredentials(context);
  if (credentials.status === 'failed') return [credentials];
  const checks = [credentials, await checkBucket(context, principal ? { principal } : {}), ...(await checkModels(context)), await checkBatchList(context)];
  if (!options.probe) return checks;
  return [...checks, { name: 'probe', status: 'warning', detail: 'not run, nothing spent: the batch parser probe is of the Gemini Developer API, not Vertex AI', fix: 'nothing to do: leave out --probe on backend vertex' }];
}

async function runChecks(context: DoctorContext, options: { probe: boolean }): Promise<DoctorCheck[]> {
  if (context.backend.kind === 'vertex') return runVertexChecks(context, options);
  const key = await checkApiKey(context);
  if (key.status === 'failed') return [key];
  const checks = [key, ...(await checkModels(context)), await checkUpload(context), await checkBatchList(context)];
  if (!options.probe) return checks;
  if (checks.some((check) => check.status === 'failed')) {
    return [...checks, { name: 'probe', status: 'warning', detail: 'not run, nothing spent: an item above failed', fix: 'mend the failed items, then run chargen doctor --probe again' }];
  }
  return [...checks, await probeBatchParser(context)];
}

/**
 * `chargen doctor`: checks the configured backend item by item at no cost (the key, each model for the method
 * chargen will call, an upload, the batch list) and, with `probe`, that the batch parser takes chargen's request
 * lines. Returns the report; never prints it. The key appears in no detail.
 */
export async function runDoctor(options: RunDoctorOptions): Promise<DoctorReport> {
  const { config } = options;
  const backendName = await describeConfiguredBackend(options);
  let backend: Backend;
  try {
    backend = await connectBackend({ choice: config.backend, vertex: config.vertex, cwd: options.cwd, env: options.env, logger: options.logger });
  } catch (error) {
    if (!(error instanceof ChargenError) || error.code !== 'missing-api-key') throw error;
    const failed: DoctorCheck =
      config.backend === 'vertex' ? { name: 'credentials', status: 'failed', detail: error.message, fix: credentialsFix } : { name: 'key', status: 'failed', detail: error.message, fix: keyFix };
    const checks: DoctorCheck[] = [options.configCheck, failed];
    return { exitCode: computeDoctorExitCode(checks), backend: backendName, checks };
  }
  let checks: DoctorCheck[];
  try {
    const settings = geminiSettingsSchema.parse({ ...backend.settingsOverrides, ...config.gemini });
    // A doctor should answer in seconds: fewer attempts than a run makes, with the run's backoff.
    const policy = { ...toRetryPolicy(settings), attempts: Math.min(settings.retryAttempts, 3) };
    const environment = options.environment ?? { sleep: (milliseconds: number) => sleep(milliseconds), random: Math.random };
    const workspace = await findWorkspace({ cwd: options.cwd, config, backend });
    const context: DoctorContext = { backend, choice: config.backend, config, settings, retry: { policy, environment }, workspace, logger: options.logger };
    checks = [options.configCheck, ...(await runChecks(context, options))];
  } finally {
    await backend.close();
  }
  const secret = backend.kind === 'gemini' ? backend.connection.apiKey : '';
  const redacted = checks.map((check) => ({ ...check, detail: redactText(check.detail, secret), ...(check.fix ? { fix: redactText(check.fix, secret) } : {}) }));
  return { exitCode: computeDoctorExitCode(redacted), backend: backendName, checks: redacted };
}
