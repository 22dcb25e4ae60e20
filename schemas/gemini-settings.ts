import { z } from 'zod';

const minute = 60_000;

/** The Gemini layer's knobs, each with its default and why it is what it is. */
export const geminiSettingsSchema = z
  .object({
    uploadConcurrency: z.number().int().min(1).max(64).default(8).describe('uploads in flight at once'),
    uploadSafetyMarginMilliseconds: z
      .number().int().min(0).default(2 * 60 * minute)
      .describe('an uploaded file is reused only while it will outlive the job deadline (batch) by this much more; files expire 48 h after upload'),
    jobDeadlineMilliseconds: z
      .number().int().min(0).max(47 * 60 * minute).default(24 * 60 * minute)
      .describe('how long a batch job is planned to take at most (the API targets 24 h, and expires jobs at 48 h): a file it references must live that long'),
    pendingDeadlineMilliseconds: z
      .number().int().min(0).max(47 * 60 * minute).default(6 * 60 * minute)
      .describe(
        'a batch job still PENDING this long after it was submitted is a straggler: it is cancelled, and once the cancel is ' +
          'confirmed its unanswered lines go into a new job (a job that started RUNNING is left to finish; a straggler and its ' +
          'replacements are at most maxRounds jobs, the last one waited for); 0 turns this off. ' +
          'Jobs stuck PENDING for a day and more are the most reported Batch API problem (python-genai#1482, #2221, #2974)',
      ),
    chunkMaxLines: z.number().int().min(1).default(5_000).describe('request lines per batch job'),
    chunkMaxBytes: z
      .number().int().min(1024).max(1_900_000_000).default(256 * 1024 * 1024)
      .describe('bytes of request JSONL per batch job (the API takes up to 2 GB)'),
    storageBudgetBytes: z
      .number().int().min(1024).max(20 * 1000 * 1000 * 1000).default(10 * 1024 * 1024 * 1024)
      .describe(
        'bytes of images held on the Files API at once (a project may hold 20 GB there): a run uploads chunk by chunk, ' +
          'each chunk of images at most half of this, and deletes its uploads once no pending job needs them',
      ),
    maxJobsInFlight: z.number().int().min(1).max(90).default(16).describe('batch jobs pending or running at once (the API allows 100)'),
    maxRounds: z.number().int().min(1).max(10).default(3).describe('how often a retryable failure or a missing key is sent again'),
    pollInitialMilliseconds: z.number().int().min(1).default(15_000).describe('first wait between polls of a job'),
    pollMaxMilliseconds: z.number().int().min(1).default(5 * minute).describe('longest wait between polls'),
    downloadIdleTimeoutMilliseconds: z
      .number().int().min(1).default(2 * minute)
      .describe('give up on a result download that sends nothing for this long, and try again'),
    maxResultFilesOnDisk: z
      .number().int().min(1).max(64).default(2)
      .describe('downloaded batch result files on disk at once (image results run to gigabytes): each is read, then deleted, before another takes its place'),
    syncConcurrency: z.number().int().min(1).max(64).default(4).describe('generateContent calls in flight in --mode sync'),
    jsonlMimeType: z
      .string().min(1).default('application/json')
      .describe(
        'MIME type sent with request JSONL uploads; when the Files API refuses it ("Unsupported MIME type"), jsonl and then ' +
          'application/jsonl are tried, and the one taken is remembered in the workspace',
      ),
    retryAttempts: z.number().int().min(1).max(20).default(6).describe('attempts per API call on 429/5xx or a lost connection'),
    retryInitialMilliseconds: z.number().int().min(0).default(1_000),
    retryMaxMilliseconds: z.number().int().min(0).default(60_000),
  })
  .strict();

export type GeminiSettings = z.infer<typeof geminiSettingsSchema>;
export type GeminiSettingsInput = z.input<typeof geminiSettingsSchema>;

/** Short waits for the emulator, whose jobs finish in seconds. */
export const emulatorGeminiSettings: GeminiSettingsInput = {
  pollInitialMilliseconds: 200,
  pollMaxMilliseconds: 2_000,
  retryInitialMilliseconds: 50,
  retryMaxMilliseconds: 2_000,
  // Emulator jobs start in seconds: one still pending after 20 s is stuck (the STUCK_PENDING fault).
  pendingDeadlineMilliseconds: 20_000,
};
