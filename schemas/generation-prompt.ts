import { z } from 'zod';

/** Every ratio and size some Gemini image model takes; which model takes which is in gemini-models.json. */
export const aspectRatios = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9', '1:4', '4:1', '1:8', '8:1'] as const;
export const imageSizes = ['512', '1K', '2K', '4K'] as const;

export const imageConfigSchema = z
  .object({
    aspectRatio: z.enum(aspectRatios).default('9:16').describe('output aspect ratio'),
    imageSize: z.enum(imageSizes).default('2K').describe('output size: 512 (3.1 Flash Image only), or 1K, 2K, 4K with an uppercase K as the API requires'),
  })
  .strict();

/**
 * A reference image an image request carries, by its path and bytes: a file in the input folder, or (`folder:
 * 'output'`) the character's turnaround sheet in the output folder (synthesize.sheet).
 */
export const promptReferenceSchema = z
  .object({ path: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), mimeType: z.string(), folder: z.literal('output').optional() })
  .strict();
export type PromptReference = z.infer<typeof promptReferenceSchema>;

/** One image to generate: everything synthesize needs, and nothing it has to look up. */
export const generationPromptSchema = z
  .object({
    /** Hash of the canonical content below: the same prompt always has the same key. */
    key: z.string().regex(/^[0-9a-f]{64}$/),
    sourceImage: z.object({ path: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), mimeType: z.string() }).strict(),
    variant: z.number().int().min(1),
    /** The named shot this image is (compile.variants as a list); absent for a numbered variant. */
    shot: z.string().min(1).optional(),
    /**
     * generationConfig.seed, and where it came from: `auto` (derived from the character and the shot; an answer
     * received for the same request without a seed, before chargen sent seeds, stands in for it), `config` (derived
     * from compile.seed), `shot` (the shot's own). Absent: no seed is sent. Not part of `key`, which stays the key of
     * the prompt an older chargen compiled; the request's key covers it.
     */
    seed: z.object({ value: z.number().int().min(0), source: z.enum(['auto', 'config', 'shot']) }).strict().optional(),
    prompt: z.string().min(1),
    model: z.string().min(1),
    imageConfig: imageConfigSchema,
    useReferenceImage: z.boolean(),
    /**
     * With useReferenceImage: the character's references the request carries, most informative first, up to the image
     * model's maxReferenceImages. `sourceImage` then names the character (its path: `knight/` or `knight.png`) and
     * its first reference's bytes. Absent in prompts compiled before characters: the reference is `sourceImage`.
     */
    references: z.array(promptReferenceSchema).min(1).optional(),
    /** The character's references over the image model's limit, not carried (named in a warning). */
    leftOutReferences: z.array(z.string()).min(1).optional(),
    safetySettings: z.array(z.object({ category: z.string(), threshold: z.string() }).strict()).optional(),
  })
  .strict();

export type GenerationPrompt = z.infer<typeof generationPromptSchema>;

/** The references a prompt's request carries (none unless useReferenceImage). */
export function listPromptReferences(prompt: Pick<GenerationPrompt, 'useReferenceImage' | 'references' | 'sourceImage'>): PromptReference[] {
  if (!prompt.useReferenceImage) return [];
  return prompt.references ?? [prompt.sourceImage];
}
