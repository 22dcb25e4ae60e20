import { randomBytes } from 'node:crypto';
import { buildResponseSchema } from '../../stages/analyze/core/build-analysis-request.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { callWithRetry, toGeminiCallError } from '../../lib/gemini/call-with-retry.ts';
import type { RequestLine } from '../../lib/gemini/line-outcome.ts';
import { workspaceJobPrefix } from '../../lib/gemini/workspace-jobs.ts';
import { describeCallFailure } from './describe-call-failure.ts';
import type { DoctorContext } from './doctor-context.ts';
import type { DoctorCheck } from './doctor-report.ts';
import { deleteUploadedFile, uploadRequestLines } from './upload-request-lines.ts';

/**
 * The probe's model: the cheapest text model the catalog lists as served (the GA Flash Lite; image models bill an
 * image per answer). Its one line asks for a short answer, so even a job that ran before its cancel would cost a
 * small fraction of a cent.
 */
export const probeModel = 'gemini-3.5-flash-lite';

/** What `--probe` may spend, said before it runs. */
export const probeCostNotice =
  `--probe creates one batch job on ${probeModel} holding one tiny text request and cancels it at once: ` +
  'at most well under $0.001, usually nothing (the job is cancelled before it runs).';

/**
 * Pure: one request line carrying every field name chargen's real lines use (contents, role, parts, text;
 * generationConfig with responseMimeType, the analysis schema under the configured field, thinkingConfig, imageConfig,
 * responseModalities; safetySettings). Values only have to parse: the job is cancelled before it runs. No fileData:
 * it would need an uploaded image to point at.
 */
export function buildProbeLine(config: ChargenConfig): RequestLine {
  return {
    key: 'chargen-doctor-probe',
    request: {
      contents: [{ role: 'user', parts: [{ text: 'chargen doctor probe: answer with an empty record.' }] }],
      generationConfig: {
        responseMimeType: 'application/json',
        [config.analyze.schemaField]: buildResponseSchema(config.analyze.schemaField),
        thinkingConfig: { thinkingLevel: 'LOW', includeThoughts: false },
        imageConfig: { aspectRatio: '1:1', imageSize: '1K' },
        responseModalities: ['TEXT'],
      },
      safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }],
    },
  };
}

function describeCancelFix(options: { jobName: string; workspaceId: string | undefined; baseUrl: string | undefined }): string {
  if (options.workspaceId) return `cancel it: chargen jobs cancel ${options.jobName}`;
  const base = (options.baseUrl ?? 'https://generativelanguage.googleapis.com').replace(/\/+$/, '');
  return `cancel it: curl -X POST -H "x-goog-api-key: $GEMINI_API_KEY" ${base}/v1beta/${options.jobName}:cancel (or chargen jobs cancel from a workspace)`;
}

async function createAndCancel(context: DoctorContext, options: { fileName: string; displayName: string; workspaceId: string | undefined }): Promise<DoctorCheck> {
  const { client } = context.backend;
  let jobName: string | undefined;
  try {
    // Never retried: a create is not idempotent, and a second job would be a second spend.
    jobName = (await client.batches.create({ model: probeModel, src: options.fileName, config: { displayName: options.displayName } })).name;
  } catch (error) {
    const detail = describeCallFailure('batches.create', error);
    if (toGeminiCallError('batches.create', error).status === 400) {
      return { name: 'probe', status: 'failed', detail: `the batch parser refused chargen's request line: ${detail}`, fix: "chargen's batch jobs would be refused alike: report this message (it names the field chargen writes that the API does not take)" };
    }
    return { name: 'probe', status: 'failed', detail, fix: `try again later; should a job have been created all the same, it is named ${options.displayName}: chargen jobs list, then cancel it` };
  }
  if (!jobName) return { name: 'probe', status: 'failed', detail: 'batches.create answered without a job name', fix: `look for ${options.displayName} in chargen jobs list and cancel it` };
  try {
    await callWithRetry({ operation: `batches.cancel ${jobName}`, ...context.retry, call: () => client.batches.cancel({ name: jobName }) });
  } catch (error) {
    const fix = describeCancelFix({ jobName, workspaceId: options.workspaceId, baseUrl: context.backend.connection.baseUrl });
    return { name: 'probe', status: 'failed', detail: `create accepted the line, but ${jobName} could not be cancelled: ${describeCallFailure('batches.cancel', error)}`, fix };
  }
  return { name: 'probe', status: 'ok', detail: `batches.create accepted a request line with every field name chargen writes; ${jobName} was cancelled at once` };
}

/**
 * `--probe`: proves that the batch parser takes chargen's request lines. Uploads one line written and uploaded as a
 * run does, creates a job on the cheapest text model, cancels it at once and deletes the file (whatever failed).
 * Inside a workspace the job is named as its jobs are, so that `chargen jobs cancel` can reach it.
 */
export async function probeBatchParser(context: DoctorContext): Promise<DoctorCheck> {
  const workspaceId = context.workspace?.id;
  const displayName = `${workspaceId ? workspaceJobPrefix(workspaceId) : 'chargen-'}doctor-probe-${randomBytes(4).toString('hex')}`;
  let fileName: string;
  try {
    const upload = await uploadRequestLines(context, { lines: [buildProbeLine(context.config)], displayName });
    if (upload.status === 'refused') return { name: 'probe', status: 'failed', detail: upload.reason, fix: 'see the upload item' };
    fileName = upload.name;
  } catch (error) {
    return { name: 'probe', status: 'failed', detail: `the request file was refused: ${describeCallFailure('files.upload', error)}`, fix: 'see the upload item' };
  }
  let check: DoctorCheck;
  try {
    check = await createAndCancel(context, { fileName, displayName, workspaceId });
  } catch (error) {
    check = { name: 'probe', status: 'failed', detail: describeCallFailure('probe', error) };
  }
  const left = await deleteUploadedFile(context, fileName);
  if (left === undefined) return check;
  return { ...check, status: check.status === 'ok' ? 'warning' : check.status, detail: `${check.detail}; its request file ${fileName} was not deleted (${left}); it expires 48 h after its upload` };
}
