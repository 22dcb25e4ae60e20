import { z } from 'zod';
import { analyzeSettingsSchema } from './analyze-settings.ts';
import { compileSettingsSchema } from './compile-settings.ts';
import { synthesizeSettingsSchema } from './synthesize-settings.ts';
import { geminiSettingsSchema } from './gemini-settings.ts';
import { priceTableSchema, usageEstimateSchema } from './price-table.ts';

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

const section = <T extends z.ZodType>(schema: T) => schema.default(() => schema.parse({}) as never);

/** `chargen.config.json`: one schema, each key with its description and default. Flags > env > file > defaults. */
export const chargenConfigSchema = z
  .object({
    $schema: z.string().optional().describe('the JSON Schema for editors: ./schemas/chargen.config.schema.json in a checkout of chargen'),
    input: z.string().min(1).default('input_images').describe('folder of reference images'),
    out: z.string().min(1).default('final_characters').describe('folder the generated images and sidecars go to'),
    workdir: z.string().min(1).default('.chargen').describe('the workspace: checkpoints, caches, job records'),
    backend: z.enum(['auto', 'gemini', 'emulator']).default('auto').describe('auto: the real API with a key, else the built-in emulator'),
    mode: z.enum(['batch', 'sync']).default('batch').describe('batch: half price, minutes to hours; sync: full price, seconds'),
    confirmAboveUsd: z
      .number().min(0).default(5)
      .describe('ask before a run whose estimated spend is above this (on a terminal; elsewhere --yes is needed)'),
    analyze: section(analyzeSettingsSchema),
    compile: section(compileSettingsSchema),
    synthesize: section(synthesizeSettingsSchema),
    gemini: createOverridesSchema(geminiSettingsSchema).default({}).describe('the Gemini layer: chunking, polling, retries, concurrency'),
    prices: priceTableSchema,
    usageEstimate: usageEstimateSchema,
  })
  .strict();

export type ChargenConfig = z.infer<typeof chargenConfigSchema>;

/** The JSON Schema editors use for `chargen.config.json` (what may be written, so input types and no required keys). */
export function createConfigJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(chargenConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
    title: 'chargen.config.json',
  };
}
