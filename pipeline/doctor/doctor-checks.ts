import { pickSamplingParameters } from '../../stages/analyze/core/build-analysis-request.ts';
import { describeRetiredModel, findReplacementChain, toModelId } from '../../schemas/gemini-models.ts';
import type { DoctorContext } from './doctor-context.ts';
import type { Backend } from '../../lib/gemini/connected-backend.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { callWithRetry, toGeminiCallError } from '../../lib/gemini/call-with-retry.ts';
import { describeModelWarnings, inspectServedModels, type ModelReport } from '../../lib/gemini/check-models.ts';
import { listModelUses } from '../list-model-uses.ts';
import { stageNames } from '../../stages/stage-step.ts';
import { describeCallFailure } from './describe-call-failure.ts';
import type { DoctorCheck } from './doctor-report.ts';
import { deleteUploadedFile, uploadRequestLines, type RequestLinesUpload } from './upload-request-lines.ts';
import { describeVertexAccessFix } from './vertex-doctor-checks.ts';


export const keyFix = 'set GEMINI_API_KEY (or GOOGLE_API_KEY) in the environment or in .env; get a key at https://aistudio.google.com/apikey';

function describeEndpoint(backend: Backend): string {
  return backend.connection.baseUrl ? `the endpoint at CHARGEN_BASE_URL (${backend.connection.baseUrl})` : 'the Gemini API';
}

/** The key, by the cheapest call there is (one model listed); a 400 API_KEY_INVALID or a 403 is the key's fault. */
export async function checkApiKey(context: DoctorContext): Promise<DoctorCheck> {
  const { backend } = context;
  if (backend.kind === 'emulator') {
    return context.choice === 'emulator'
      ? { name: 'key', status: 'ok', detail: 'none needed: --backend emulator checks the built-in emulator' }
      : { name: 'key', status: 'warning', detail: 'no API key set: these checks ran on the built-in emulator, not on the Gemini API', fix: keyFix };
  }
  const where = describeEndpoint(backend);
  try {
    await callWithRetry({ operation: 'models.list', ...context.retry, call: async () => (await backend.client.models.list({ config: { pageSize: 1 } })).page });
    return { name: 'key', status: 'ok', detail: `accepted by ${where}` };
  } catch (error) {
    const failure = toGeminiCallError('models.list', error);
    const detail = describeCallFailure('models.list', error);
    const rest = 'the other items need an accepted key';
    if (failure.status === undefined) {
      const fix = backend.connection.baseUrl ? 'start the endpoint CHARGEN_BASE_URL names, or unset CHARGEN_BASE_URL' : 'check the network connection to generativelanguage.googleapis.com';
      return { name: 'key', status: 'failed', detail: `${where} did not answer: ${detail}; ${rest}`, fix };
    }
    if (failure.status === 403 || (failure.status === 400 && failure.message.includes('API_KEY_INVALID'))) {
      return { name: 'key', status: 'failed', detail: `refused by ${where}: ${detail}; ${rest}`, fix: keyFix };
    }
    return { name: 'key', status: 'failed', detail: `${where} answered with an error: ${detail}; ${rest}`, fix: 'see the message; when it says the service is unavailable, try again later' };
  }
}

function describeModelReport(report: ModelReport, options: { config: ChargenConfig; backend: Backend }): DoctorCheck {
  const { use } = report;
  const { config } = options;
  const vertex = options.backend.vertex?.target;
  const name = use.setting;
  const setTo = (model: string) => `set ${use.setting} to ${model} in chargen.config.json`;
  if (report.status !== 'served') {
    const catalog = vertex
      ? `a model Vertex AI serves in ${vertex.location} (https://cloud.google.com/vertex-ai/generative-ai/docs/learn/locations)`
      : 'a model the API serves (https://ai.google.dev/gemini-api/docs/models)';
    const fix = report.suggestion ? setTo(report.suggestion) : `set ${use.setting} to ${catalog}`;
    const detail = report.description ?? `${toModelId(use.model)} is not served`;
    return { name, status: 'failed', detail: vertex ? detail.replace('is not served by the API', 'is not served by Vertex AI') : detail, fix };
  }
  const target = findReplacementChain(use.model).at(-1);
  const retired = describeRetiredModel(use.model);
  if (retired) return { name, status: 'failed', detail: `${toModelId(use.model)} still answers, but ${retired}; chargen refuses it`, ...(target ? { fix: setTo(target) } : {}) };
  // Vertex AI's publisher model names no methods: served is all it says.
  const served = vertex ? `${toModelId(use.model)} is served by Vertex AI (publishers/google/models/${toModelId(use.model)})` : `${toModelId(use.model)} is served and takes ${use.method}`;
  const sampling = use.setting === 'analyze.model' ? pickSamplingParameters(config.analyze) : {};
  const prefix = `${use.setting}: `;
  const warnings = describeModelWarnings({ uses: [use], sampling, samplingSetting: 'analyze', analysisModel: config.analyze.model }).map((warning) =>
    warning.startsWith(prefix) ? warning.slice(prefix.length) : warning,
  );
  if (warnings.length === 0) return { name, status: 'ok', detail: served };
  return { name, status: 'warning', detail: `${served}; ${warnings.join('; ')}`, ...(target ? { fix: setTo(target) } : {}) };
}

/**
 * Each configured model asked of the API (models.get) for the method chargen will call (batchGenerateContent in batch
 * mode, generateContent in sync): a retired id is named with its replacement, an unknown one with the served ids
 * nearest its name; the catalog's warnings (deprecated, routed) are warnings, not failures.
 */
export async function checkModels(context: DoctorContext): Promise<DoctorCheck[]> {
  const uses = listModelUses({ config: context.config, stages: stageNames });
  try {
    const reports = await inspectServedModels({ client: context.backend.client, uses, retry: context.retry });
    return reports.map((report) => describeModelReport(report, { config: context.config, backend: context.backend }));
  } catch (error) {
    const detail = describeCallFailure('models.get', error);
    const project = context.backend.vertex?.target.project;
    const fix = project ? describeVertexAccessFix({ error, project, operation: 'models.get' }) : 'see the message';
    return uses.map((use) => ({ name: use.setting, status: 'failed' as const, detail: `${toModelId(use.model)} could not be asked of the API: ${detail}`, fix }));
  }
}

/** A one-line request JSONL uploaded as chargen uploads request files (MIME type and fallbacks), then deleted again. */
export async function checkUpload(context: DoctorContext): Promise<DoctorCheck> {
  const configured = context.settings.jsonlMimeType;
  const line = { key: 'chargen-doctor-upload-check', request: { contents: [{ role: 'user', parts: [{ text: 'chargen doctor: upload check' }] }] } };
  let uploaded: RequestLinesUpload;
  try {
    uploaded = await uploadRequestLines(context, { lines: [line], displayName: 'chargen-doctor-upload-check' });
  } catch (error) {
    const fix = "batch jobs need their request file uploaded: see the message (when the project's 20 GB of Files API storage is full, `chargen clean` frees what a workspace uploaded)";
    return { name: 'upload', status: 'failed', detail: `a one-line request JSONL was refused: ${describeCallFailure('files.upload', error)}`, fix };
  }
  if (uploaded.status === 'refused') {
    return { name: 'upload', status: 'failed', detail: uploaded.reason, fix: 'set gemini.jsonlMimeType in chargen.config.json to a spelling the Files API takes (application/json, the default, was never reported refused)' };
  }
  const done = `a one-line request JSONL (${uploaded.sizeBytes} bytes) uploaded as ${uploaded.mimeType} (${uploaded.name})`;
  const left = await deleteUploadedFile(context, uploaded.name);
  if (left !== undefined) return { name: 'upload', status: 'warning', detail: `${done}, but not deleted: ${left}`, fix: 'nothing to do: it expires 48 h after its upload' };
  if (uploaded.mimeType === configured) return { name: 'upload', status: 'ok', detail: `${done} and deleted` };
  return { name: 'upload', status: 'warning', detail: `${done} and deleted; gemini.jsonlMimeType ${configured} was refused, and runs fall back as this did`, fix: `set gemini.jsonlMimeType to ${uploaded.mimeType} in chargen.config.json` };
}

/** `batches.list` answers: how chargen finds and adopts its jobs again after a crash. */
export async function checkBatchList(context: DoctorContext): Promise<DoctorCheck> {
  const pageSize = 10;
  try {
    // Always an explicit pageSize: without one the API has been seen to answer no jobs at all (python-genai#1250).
    const pager = await callWithRetry({ operation: 'batches.list', ...context.retry, call: () => context.backend.client.batches.list({ config: { pageSize } }) });
    return { name: 'batches.list', status: 'ok', detail: `answers: ${pager.page.length} job${pager.page.length === 1 ? '' : 's'} on its first page (pageSize ${pageSize})` };
  } catch (error) {
    const needed = context.config.mode === 'batch';
    const detail = `${describeCallFailure('batches.list', error)}${needed ? '' : ' (--mode sync makes no batch jobs)'}`;
    const project = context.backend.vertex?.target.project;
    const fix = project
      ? `chargen finds and adopts its batch jobs through it: ${describeVertexAccessFix({ error, project, operation: 'batches.list' })}`
      : 'chargen finds and adopts its batch jobs through it: see the message; when it says the service is unavailable, try again later';
    return { name: 'batches.list', status: needed ? 'failed' : 'warning', detail, fix };
  }
}

export type { DoctorContext };
