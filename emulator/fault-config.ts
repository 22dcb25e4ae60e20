import { z } from 'zod';

/** Endpoints that fault rates and delays can target; `*` applies to every one of them. */
export const endpointNames = [
  'files.upload',
  'files.get',
  'files.list',
  'files.delete',
  'files.download',
  'models.get',
  'models.list',
  'models.generateContent',
  'batches.create',
  'batches.get',
  'batches.list',
  'batches.cancel',
  'batches.delete',
  'storage.objects.insert',
  'storage.objects.get',
  'storage.objects.list',
  'storage.objects.delete',
  'storage.buckets.get',
  'batchPredictionJobs.create',
  'batchPredictionJobs.get',
  'batchPredictionJobs.list',
  'batchPredictionJobs.cancel',
  'publisherModels.generateContent',
  'publisherModels.get',
  'publisherModels.list',
] as const;
export type EndpointName = (typeof endpointNames)[number];

const probability = z.number().min(0).max(1);

const endpointFaultSchema = z
  .object({
    rate429: probability.default(0).describe('share of calls answered 429 RESOURCE_EXHAUSTED with a RetryInfo'),
    rate503: probability.default(0).describe('share of calls answered 503 UNAVAILABLE'),
    delayMilliseconds: z.number().int().min(0).default(0).describe('wait this long before answering'),
  })
  .strict();

export const jobOutcomeSchema = z.enum(['FAILED', 'CANCELLED', 'EXPIRED', 'STUCK_PENDING']);
export type JobOutcome = z.infer<typeof jobOutcomeSchema>;

const jobOutcomeRuleSchema = z
  .object({
    outcome: jobOutcomeSchema,
    displayNameContains: z.string().optional().describe('only jobs whose displayName contains this'),
    count: z.number().int().min(1).default(1).describe('how many created jobs this rule applies to'),
  })
  .strict();

export const blockOutcomeSchema = z.enum([
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
  'IMAGE_OTHER',
  'NO_IMAGE',
  'SAFETY',
  'PROHIBITED_CONTENT',
  'PROMPT_BLOCK',
]);
export type BlockOutcome = z.infer<typeof blockOutcomeSchema>;

export const defaultBlockMarkers: Readonly<Record<string, BlockOutcome>> = {
  '[[image-safety]]': 'IMAGE_SAFETY',
  '[[image-prohibited]]': 'IMAGE_PROHIBITED_CONTENT',
  '[[image-recitation]]': 'IMAGE_RECITATION',
  '[[image-other]]': 'IMAGE_OTHER',
  '[[no-image]]': 'NO_IMAGE',
  '[[safety]]': 'SAFETY',
  '[[prohibited]]': 'PROHIBITED_CONTENT',
  '[[prompt-block]]': 'PROMPT_BLOCK',
};

export const faultConfigSchema = z
  .object({
    seed: z.string().default('chargen').describe('seed of the fault dice, so a run can be replayed'),
    endpoints: z
      .partialRecord(z.enum([...endpointNames, '*']), endpointFaultSchema)
      .default({})
      .describe('per-endpoint 429/503 rates and delays'),
    retryDelaySeconds: z.number().int().min(0).default(1).describe('RetryInfo.retryDelay on injected 429s'),
    lineErrorRate: probability.default(0).describe('share of batch lines answered with an INTERNAL (code 13) error'),
    jobOutcomes: z.array(jobOutcomeRuleSchema).default([]).describe('jobs that end FAILED/CANCELLED/EXPIRED or stay PENDING'),
    cutDownloads: z.number().int().min(0).default(0).describe('how many next downloads are cut off mid-body'),
    blockMarkers: z
      .record(z.string().min(1), blockOutcomeSchema)
      .default({ ...defaultBlockMarkers })
      .describe('prompt text containing a marker gets that finish reason or prompt block'),
  })
  .strict();

export type FaultConfig = z.infer<typeof faultConfigSchema>;
export type FaultConfigInput = z.input<typeof faultConfigSchema>;
