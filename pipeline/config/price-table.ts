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

/**
 * Batch prices (half the interactive ones) from https://ai.google.dev/gemini-api/docs/pricing as read in November
 * 2026. Prices change: the table is config so that a user can correct it without a release.
 */
export const priceTableSchema = z
  .record(z.string(), modelPriceSchema)
  .default({
    'gemini-3-flash-preview': { inputPerMillionTokens: 0.25, outputPerMillionTokens: 1.5 },
    'gemini-3-pro-image': { inputPerMillionTokens: 1, outputPerMillionTokens: 6, imagePrices: { '1K': 0.067, '2K': 0.067, '4K': 0.12 } },
  })
  .describe('batch prices per model; the dry run and the spending prompt use them');

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
