import { createHash } from 'node:crypto';
import { formatCrc32c, updateCrc32c } from '../../lib/crc32c.ts';
import { loadRecordedAnswer, loadRecordedExchange, loadRecordedLines, substituteText } from './recorded-fixtures.ts';
import { answerFrom, routeFrom, type ReplayRoute } from './serve-recorded-replay.ts';

/** The job the recorded batch answers describe, and its results file. */
export const recordedJobName = 'batches/3a96ht58d9rd3fci7tg3qlrhlfawe5ykp6ge';
export const recordedResultsFile = 'files/batch-3a96ht58d9rd3fci7tg3qlrhlfawe5ykp6ge';
export const recordedUploadName = 'files/qi1b6ynxmps4';
/** What the recorded upload carried: its sha256 is the one the recorded sha256Hash encodes. */
export const recordedUploadText = 'Hello from genai file upload test.';

/** Length of the thoughtSignature on the recorded gemini-3-pro-image answer (pydantic-ai, 2026-07-29). */
export const recordedSignatureCharacters = 2_909_844;

/**
 * A thoughtSignature as long as the recorded one (about 2.9 MB of base64, 2.2 MB decoded), made at test time rather
 * than committed: the recorded first characters, then filler.
 */
export function makeRecordedSizeSignature(prefix: string): string {
  const bytes = ((recordedSignatureCharacters - prefix.length) / 4) * 3;
  const block = createHash('sha512').update('chargen conformance signature').digest();
  const filler = Buffer.alloc(bytes);
  for (let offset = 0; offset < bytes; offset += block.length) block.copy(filler, offset);
  return prefix + filler.toString('base64');
}

export function toResultLine(key: string, response: Record<string, unknown>): Record<string, unknown> {
  return { response, key };
}

/** A results file as the API writes it: one compact JSON object per line. */
export function toResultFile(lines: readonly Record<string, unknown>[]): Buffer {
  return Buffer.from(lines.map((line) => `${JSON.stringify(line)}\n`).join(''), 'utf8');
}

/** Text lines of a recorded batch: a signature-only part, key order that varies, an error line, NO_IMAGE, a block. */
export function recordedTextResultLines(): Record<string, unknown>[] {
  return [
    ...loadRecordedLines('result-line-signature-only-part.json'),
    ...loadRecordedLines('result-lines-key-order.json'),
    ...loadRecordedLines('result-line-error-without-status.json'),
    toResultLine('no-image', loadRecordedAnswer('answer-no-image.json')),
    toResultLine('prompt-blocked', loadRecordedAnswer('answer-prompt-blocked.json')),
  ];
}

/** Image answers of the recordings as batch lines (no image batch was recorded; the answers are generateContent's). */
export function recordedImageResultLines(options: { recordedSizeSignature: boolean }): Record<string, unknown>[] {
  const proImage = loadRecordedAnswer('answer-gemini-3-pro-image.json');
  if (options.recordedSizeSignature) {
    const part = (proImage as { candidates: { content: { parts: { thoughtSignature: string }[] } }[] }).candidates[0]!.content.parts[0]!;
    part.thoughtSignature = makeRecordedSizeSignature(part.thoughtSignature.slice(0, 40));
  }
  return [
    toResultLine('otter', proImage),
    toResultLine('axolotl', loadRecordedAnswer('answer-gemini-3-pro-image-preview-text-and-image.json')),
    toResultLine('flash', loadRecordedAnswer('answer-gemini-3.1-flash-image.json')),
    toResultLine('pip', loadRecordedAnswer('answer-gemini-2.5-flash-image.json')),
  ];
}

/**
 * Every answer one batch round gets, as recorded: the resumable upload (start, then the chunk the JS SDK POSTs where
 * the recorded Go client PUT it), create (PENDING), get (RUNNING, then SUCCEEDED), the download's 302 and the bytes
 * behind it (a results file in place of the recorded video).
 */
export function recordedBatchRoutes(options: { model: string; results: Buffer }): ReplayRoute[] {
  const create = loadRecordedExchange('batch-operations.json', 'create');
  const download = (name: string) => substituteText(loadRecordedExchange('files-download.json', name), { 'files/pgnh4ygqa90n': recordedResultsFile });
  return [
    routeFrom(loadRecordedExchange('files-crud.json', 'start')),
    routeFrom(loadRecordedExchange('files-crud.json', 'finalize'), { method: 'POST' }),
    routeFrom(create, { target: `/v1beta/models/${options.model}:batchGenerateContent` }),
    // A job that has ended no longer needs its request file: the executor deletes it (the storage budget), as recorded.
    routeFrom(loadRecordedExchange('files-crud.json', 'delete')),
    {
      method: 'GET',
      target: `/v1beta/${recordedJobName}`,
      answers: [answerFrom(loadRecordedExchange('batch-operations.json', 'get running')), answerFrom(loadRecordedExchange('batch-operations.json', 'get succeeded'))],
    },
    routeFrom(download('redirect')),
    // The recorded bytes were a video; a results file has another type, which no reader looks at, and its own crc32c
    // in the recorded X-Goog-Hash form (the client checks it).
    routeFrom(download('download'), {
      body: options.results,
      headers: { 'content-type': 'application/octet-stream', 'x-goog-hash': `crc32c=${formatCrc32c(updateCrc32c(0, options.results))}` },
    }),
  ];
}
