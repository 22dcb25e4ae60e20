import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { addAbortSignal } from 'node:stream';
import type { Bucket, Storage } from '@google-cloud/storage';
import { DownloadError, GeminiCallError } from '../errors.ts';
import { createStall } from '../gemini/open-download-response.ts';
import { sumOf } from '../sum-of.ts';
import { callStorageWithRetry, defaultIdleTimeoutMilliseconds, listObjectPages, type StorageRetry } from './call-storage.ts';
import { parseGcsUri, toGcsUri } from './vertex-bucket-layout.ts';

/**
 * The results files of a job's output directory: `predictions.jsonl`, as Gemini batch jobs on Vertex write it
 * (python-genai#486, js-genai#1108: `prediction-model-<time>/predictions.jsonl`), or shards such as
 * `predictions_00001.jsonl` as other Vertex batch jobs write them (seen in users' scripts, not for Gemini). Only the
 * directory's own objects: anything in a folder below it (a third-party collector skips paths holding
 * `incremental_predictions`) and other names (`errors_*.jsonl` of older job kinds) are not results.
 */
export function isPredictionsFileName(baseName: string): boolean {
  return /^predictions[^/]*\.jsonl$/.test(baseName);
}

/** The directory's predictions files in name order, read a listed page at a time (with a delimiter, so sub-folders roll up). */
async function listPredictionsFiles(options: { bucket: Bucket; folder: string; retry: StorageRetry; signal?: AbortSignal }): Promise<{ files: { name: string; sizeBytes: number }[]; others: string[] }> {
  const names: { name: string; sizeBytes: number }[] = [];
  const others: string[] = [];
  const { bucket, folder: prefix, retry, signal } = options;
  for await (const files of listObjectPages({ bucket, prefix, delimiter: '/', retry, ...(signal ? { signal } : {}) })) {
    for (const file of files) {
      if (isPredictionsFileName(file.name.slice(options.folder.length))) names.push({ name: file.name, sizeBytes: Number(file.metadata.size ?? 0) });
      else if (others.length < 3) others.push(file.name.slice(options.folder.length));
    }
  }
  // Listed in name order already; sorted again so the order never rests on the service's.
  return { files: names.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0)), others };
}

/**
 * Writes one object into the open file at `offset` (cutting off whatever an earlier attempt left past it), streamed
 * from Cloud Storage with the client's crc32c check of the whole object, and a line feed after it when its last line
 * lacks one (so two files never join on a line). Returns where the file ends now. A read that sends nothing for
 * `idleTimeoutMilliseconds` is given up as a retryable failure: @google-cloud/storage 7.22's read stream neither
 * ends nor fails when its connection drops part-way through a body (seen here on Node 20, through the client's
 * node-fetch 2.7), so without this a lost connection would hang the run.
 */
async function writeObjectAt(options: { bucket: Bucket; name: string; handle: FileHandle; offset: number; idleTimeoutMilliseconds: number; signal?: AbortSignal }): Promise<number> {
  await options.handle.truncate(options.offset);
  const stream = options.bucket.file(options.name).createReadStream({ validation: 'crc32c' });
  if (options.signal) addAbortSignal(options.signal, stream);
  const stall = createStall({ idleTimeoutMilliseconds: options.idleTimeoutMilliseconds });
  const fileName = toGcsUri(options.bucket.name, options.name);
  stall.watch({ destroy: (error) => stream.destroy(new DownloadError({ fileName, message: `${error.message}, taken as a lost connection`, isRetryable: true })) });
  let position = options.offset;
  let lastByte: number | undefined;
  try {
    stall.arm();
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      await options.handle.write(chunk, 0, chunk.length, position);
      stall.arm();
      position += chunk.length;
      lastByte = chunk[chunk.length - 1];
    }
  } finally {
    stall.clear();
  }
  if (lastByte !== undefined && lastByte !== 0x0a) {
    await options.handle.write(Buffer.from('\n'), 0, 1, position);
    position += 1;
  }
  return position;
}

/**
 * Downloads a finished job's results (`outputInfo.gcsOutputDirectory`) into one local JSONL file: its
 * `predictions*.jsonl` objects in name order, never held in memory (image results run to gigabytes). Written as
 * `<destination>.part` and renamed when whole, so `destination` is complete or absent. A failure part-way reads that
 * file again from its start (retried by chargen's policy; a ranged resume would lose the client's crc32c check, which
 * covers whole reads only), and one that fails for good removes the part file. `files` are the `gs://` URIs read.
 * A directory with no predictions files (a job cancelled before it started) gives an empty file and `files: []`.
 */
export async function downloadPredictions(options: {
  storage: Storage;
  /** The `gs://` URI a finished job shows in `outputInfo.gcsOutputDirectory`. */
  outputDirectory: string;
  destination: string;
  /** Give up on a read that sends nothing for this long, and try again; defaultIdleTimeoutMilliseconds unless given. */
  idleTimeoutMilliseconds?: number;
  retry: StorageRetry;
  signal?: AbortSignal;
  /** Asked for the files' bytes before one is written (the run's result-file gate keeps the disk from filling). */
  reserveRoom?: (bytes: number) => Promise<void>;
}): Promise<{ files: string[]; bytes: number }> {
  const { bucket: bucketName, objectName } = parseGcsUri(options.outputDirectory);
  const bucket = options.storage.bucket(bucketName);
  const folder = objectName === '' || objectName.endsWith('/') ? objectName : `${objectName}/`;
  const signal = options.signal ? { signal: options.signal } : {};
  const { files: listed, others } = await listPredictionsFiles({ bucket, folder, retry: options.retry, ...signal });
  if (listed.length === 0 && others.length > 0) {
    // Files under other names (the layout is unconfirmed of the real service) hold answers paid for: the job is left
    // for a rerun to follow, never taken as one that answered nothing (its lines would be sent, and paid, again).
    throw new GeminiCallError({
      operation: `download ${options.outputDirectory}`,
      status: undefined,
      message: `${options.outputDirectory} holds no predictions*.jsonl but other files (${others.join(', ')}): chargen does not know how to read them; report it with their names`,
      isRetryable: false,
    });
  }
  await options.reserveRoom?.(sumOf(listed, (file) => file.sizeBytes));
  const names = listed.map((file) => file.name);
  const partPath = `${options.destination}.part`;
  const handle = await open(partPath, 'w');
  try {
    let bytes = 0;
    // A failure retries its own file from where that file began: the files before it stay written.
    for (const name of names) {
      const uri = toGcsUri(bucketName, name);
      const offset = bytes;
      bytes = await callStorageWithRetry({ operation: `download ${uri}`, retry: options.retry, ...signal, call: () => writeObjectAt({ bucket, name, handle, offset, idleTimeoutMilliseconds: options.idleTimeoutMilliseconds ?? defaultIdleTimeoutMilliseconds, ...signal }) });
    }
    await handle.sync();
    await handle.close();
    await rename(partPath, options.destination);
    return { files: names.map((name) => toGcsUri(bucketName, name)), bytes };
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(partPath, { force: true });
    throw error;
  }
}
