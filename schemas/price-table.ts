import { z } from 'zod';

const perMillion = (description: string) => z.number().min(0).describe(`${description}, USD per million tokens`);

const modelPriceSchema = z
  .object({
    inputPerMillionTokens: perMillion('text and image input'),
    outputPerMillionTokens: perMillion('text output, thought tokens included'),
    imagePrices: z
      .record(z.string(), z.number().min(0))
      .optional()
      .describe('price per generated image by imageSize (1K, 2K, 4K), USD'),
  })
  .strict();
type ModelPrice = z.infer<typeof modelPriceSchema>;
const modelPriceOverrideSchema = modelPriceSchema.partial();
type ModelPriceOverride = z.infer<typeof modelPriceOverrideSchema>;

/**
 * Batch prices (half the interactive ones) from https://ai.google.dev/gemini-api/docs/pricing as read in November
 * 2026. Prices change: the table is config so that a user can correct it without a release.
 */
export const defaultPriceTable: Readonly<Record<string, ModelPrice>> = {
  'gemini-3-flash-preview': { inputPerMillionTokens: 0.25, outputPerMillionTokens: 1.5 },
  'gemini-3-pro-image': { inputPerMillionTokens: 1, outputPerMillionTokens: 6, imagePrices: { '1K': 0.067, '2K': 0.067, '4K': 0.12 } },
};

/** Merges what the config names over the default table: a model, a field or one image size at a time. */
function mergePriceTable(given: Record<string, ModelPriceOverride>, context: z.RefinementCtx): Record<string, ModelPrice> {
  const table = structuredClone(defaultPriceTable) as Record<string, ModelPrice>;
  for (const [model, price] of Object.entries(given)) {
    const base = table[model];
    const imagePrices = base?.imagePrices || price.imagePrices ? { ...base?.imagePrices, ...price.imagePrices } : undefined;
    const merged = { ...base, ...price, ...(imagePrices ? { imagePrices } : {}) };
    for (const field of ['inputPerMillionTokens', 'outputPerMillionTokens'] as const) {
      if (merged[field] === undefined) context.addIssue({ code: 'custom', path: [model, field], message: `needed for a model that is not in the default table (${Object.keys(defaultPriceTable).join(', ')})` });
    }
    table[model] = merged as ModelPrice;
  }
  return table;
}

/** `prices` in the config: overrides of the default table, so naming one model or one image size leaves the rest. */
export const priceTableSchema = z
  .record(z.string(), modelPriceOverrideSchema)
  .default({})
  .describe(`batch prices per model (USD), merged over the default table model by model and field by field; the dry run and the spending prompt use them. The default table: ${JSON.stringify(defaultPriceTable)}`)
  .transform(mergePriceTable);

export type PriceTable = z.infer<typeof priceTableSchema>;

/** What one request is assumed to use, for estimates made before anything is sent. */
export const usageEstimateSchema = z
  .object({
    analysisInputTokens: z.number().int().min(0).default(1_700).describe('instruction + schema + one image (1,120 tokens at the default resolution)'),
    analysisOutputTokens: z.number().int().min(0).default(1_200).describe('the JSON record plus thinking'),
    imageInputTokens: z.number().int().min(0).default(900).describe('prompt text + the reference image when sent'),
    imageThoughtTokens: z.number().int().min(0).default(400).describe('thinking before the image, billed as output'),
  })
  .strict()
  .default({ analysisInputTokens: 1_700, analysisOutputTokens: 1_200, imageInputTokens: 900, imageThoughtTokens: 400 });
