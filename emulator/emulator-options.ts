import { z } from 'zod';
import { faultConfigSchema } from './fault-config.ts';

const hour = 60 * 60 * 1000;

export const limitsSchema = z
  .object({
    maxFileBytes: z.number().int().positive().default(2 * 1024 ** 3).describe('largest upload (real API: 2 GB)'),
    maxInlineBatchBytes: z.number().int().positive().default(20 * 1000 ** 2).describe('largest inline batch create request (real API: 20 MB)'),
    maxConcurrentBatches: z.number().int().positive().default(100).describe('jobs PENDING or RUNNING at once (real API: 100)'),
    maxRequestBodyBytes: z.number().int().positive().default(100 * 1024 ** 2).describe('largest generateContent body'),
    uploadChunkGranularity: z.number().int().positive().default(8 * 1024 * 1024).describe('non-final upload chunks are a multiple of this'),
  })
  .strict();

export const latencySchema = z
  .object({
    pendingMilliseconds: z.number().int().min(0).default(1_000).describe('time a new batch stays PENDING'),
    runningMilliseconds: z.number().int().min(0).default(2_000).describe('time a batch then stays RUNNING'),
    fileTimeToLiveMilliseconds: z.number().int().positive().default(48 * hour).describe('uploaded files expire this long after creation'),
    jobExpiryMilliseconds: z.number().int().positive().default(48 * hour).describe('a job still pending or running this long is EXPIRED'),
    cancelMilliseconds: z
      .number().int().min(0).default(500)
      .describe(
        'time from batches.cancel until the job reads CANCELLED (the REST reference calls cancel asynchronous and best effort; ' +
          'a job that reaches its own final state first keeps it); a cancelled job has no results',
      ),
    pollWaitMilliseconds: z
      .number().int().min(0).default(1_000)
      .describe('how long a poll of a due job waits for its last lines before answering RUNNING'),
  })
  .strict();

export const quirksSchema = z
  .object({
    emptyListWithoutPageSize: z
      .boolean()
      .default(true)
      .describe('batches.list without pageSize answers no jobs, as users report of the real API (python-genai#1250)'),
    rejectLongFileIds: z
      .boolean()
      .default(true)
      .describe('files.get/delete of an id over 40 characters (batch outputs) is a 400, as reported (js-genai#1227)'),
    redirectDownloads: z
      .boolean()
      .default(true)
      .describe(
        'GET /{ver}/files/{id}:download answers 302 Found to /download/{ver}/files/{id}:download?alt=media, which serves ' +
          'the bytes, as recorded (maruel/genai providers/gemini/testdata/TestClient/GenAsync-Video.yaml)',
      ),
    gzipResponses: z
      .boolean()
      .default(true)
      .describe(
        'JSON answers and downloads are gzip-encoded, content-length the encoded size, when the request accepts gzip, as ' +
          'a front end does (recorded JSON answers came gzip-encoded, maruel/genai cassettes; gemini-wire.md corrections)',
      ),
    refusedUploadMimeTypes: z
      .array(z.string().min(1))
      .default(['jsonl', 'application/jsonl', 'application/json-lines'])
      .describe(
        'MIME types an upload is refused at finalize with 400 "Unsupported MIME type: <type>", as the real API has answered ' +
          'each of these (python-genai#1547, #1590, fix 946a17e0; cookbook#1008); application/json was never reported refused',
      ),
    echoLabels: z
      .boolean()
      .default(true)
      .describe(
        'Vertex AI prediction lines echo the request with its labels, as written; false drops them from the echo, to try ' +
          'a client against a service that strips them (unconfirmed either way: no recorded output line carries labels)',
      ),
  })
  .strict();

export const emulatorOptionsSchema = z
  .object({
    apiKey: z.string().min(1).optional().describe('when set, only this key is accepted; otherwise any non-empty key'),
    storageDirectory: z.string().optional().describe('where file bytes are kept; a temporary folder when unset'),
    buckets: z
      .array(z.string().min(1))
      .optional()
      .describe('the Cloud Storage buckets that exist (any other is 404 "The specified bucket does not exist."); unset, every bucket named exists'),
    limits: limitsSchema.default(limitsSchema.parse({})),
    latency: latencySchema.default(latencySchema.parse({})),
    quirks: quirksSchema.default(quirksSchema.parse({})),
    faults: faultConfigSchema.default(faultConfigSchema.parse({})),
  })
  .strict();

export type EmulatorOptions = z.infer<typeof emulatorOptionsSchema>;
export type EmulatorOptionsInput = z.input<typeof emulatorOptionsSchema>;
