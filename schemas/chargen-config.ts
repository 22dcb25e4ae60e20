import { z } from 'zod';
import { isRecord } from './is-record.ts';
import { analyzeSettingsSchema } from './analyze-settings.ts';
import { compileSettingsSchema } from './compile-settings.ts';
import { synthesizeSettingsSchema } from './synthesize-settings.ts';
import { geminiSettingsSchema } from './gemini-settings.ts';
import { priceTableSchema, usageEstimateSchema } from './price-table.ts';
import { vertexSettingsSchema } from './vertex-settings.ts';

/**
 * Every key optional and without its default: only what the user set is kept, so it overrides the backend's own
 * choices (the emulator's short waits) key by key instead of bringing back every default.
 */
function createOverridesSchema<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>) {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, value] of Object.entries(schema.shape)) {
    const field = value as z.ZodType;
    const inner = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field;
    const described = inner.optional();
    shape[key] = field.description ? described.describe(field.description) : described;
  }
  return z.object(shape).strict();
}

/** What `backend: "vertex"` cannot start without, and how to set it. */
const vertexFieldAdvice = {
  project: 'backend "vertex" needs the Google Cloud project ID: set "vertex": {"project": "<project id>"} in chargen.config.json',
  bucket:
    'backend "vertex" needs a Cloud Storage bucket for its files: set "vertex": {"bucket": "<bucket name>"} in chargen.config.json ' +
    '(make one with gcloud storage buckets create gs://<bucket name> --location=<location>)',
} as const;

const section = <T extends z.ZodType>(schema: T) => schema.default(() => schema.parse({}) as never);

/** `chargen.config.json`: one schema, each key with its description and default. Flags > env > file > defaults. */
export const chargenConfigSchema = z
  .object({
    $schema: z.string().optional().describe('the JSON Schema for editors: ./schemas/chargen.config.schema.json in a checkout of chargen'),
    input: z.string().min(1).default('input_images').describe('folder of reference images'),
    out: z.string().min(1).default('final_characters').describe('folder the generated images and sidecars go to'),
    workdir: z.string().min(1).default('.chargen').describe('the workspace: checkpoints, caches, job records'),
    backend: z
      .enum(['auto', 'gemini', 'emulator', 'vertex'])
      .default('auto')
      .describe('auto: the real API with a key, else the built-in emulator; vertex: Vertex AI batch prediction (the vertex section)'),
    mode: z.enum(['batch', 'sync']).default('batch').describe('batch: half price, minutes to hours; sync: full price, seconds'),
    confirmAboveUsd: z
      .number().min(0).default(5)
      .describe('ask before a run whose estimated spend is above this (on a terminal; elsewhere --yes is needed)'),
    analyze: section(analyzeSettingsSchema),
    compile: section(compileSettingsSchema),
    synthesize: section(synthesizeSettingsSchema),
    gemini: createOverridesSchema(geminiSettingsSchema).default({}).describe('the Gemini layer: chunking, polling, retries, concurrency'),
    vertex: section(vertexSettingsSchema).describe('backend "vertex": the Google Cloud project, location and Cloud Storage bucket'),
    prices: priceTableSchema,
    usageEstimate: usageEstimateSchema,
  })
  .strict()
  .superRefine(
    (config, context) => {
      // Run even when other values failed (`when` below), so the value may be partly invalid: read it with care.
      const backend: unknown = config.backend;
      if (backend !== 'vertex') return;
      const vertex: unknown = config.vertex;
      for (const field of ['project', 'bucket'] as const) {
        if (!isRecord(vertex) || vertex[field] === undefined) context.addIssue({ code: 'custom', path: ['vertex', field], message: vertexFieldAdvice[field] });
      }
    },
    // Known before anything is spent, and reported with every other problem of the config, not after they are mended.
    { when: () => true },
  );

export type ChargenConfig = z.infer<typeof chargenConfigSchema>;

/** The JSON Schema editors use for `chargen.config.json` (what may be written, so input types and no required keys). */
export function createConfigJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(chargenConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
    title: 'chargen.config.json',
  };
}
