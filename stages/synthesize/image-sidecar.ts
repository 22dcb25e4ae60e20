import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { analysisRecordSchema } from '../../schemas/analysis.ts';
import { generationPromptSchema, imageConfigSchema } from '../../schemas/generation-prompt.ts';

/** File name in the output folder: a plain name, never a path. */
const plainFileNameSchema = z.string().regex(/^(?!\.{1,2}$)[^/\\\0]+$/, 'a plain file name');

const imageFileSchema = z
  .object({
    file: plainFileNameSchema,
    mimeType: z.string(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    bytes: z.number().int().positive(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

/** The JSON written beside each image: everything that made it, so an image can be judged and reproduced. */
export const imageSidecarSchema = z
  .object({
    kind: z.literal('chargen-image'),
    version: z.literal(1),
    /** The request's key (a hash of its content); the same key is the same paid image. */
    key: z.string().min(1),
    /** Which backend made it (`gemini`, `emulator`): an emulator's stand-in is never taken for a real image. */
    backend: z.string().optional(),
    image: imageFileSchema,
    /**
     * The image part's `thoughtSignature`, needed to edit the image in a later turn: its base64 text in a file beside
     * the image (on gemini-3-pro-image it can be megabytes: 2.9 MB recorded), with the file's size and sha256.
     */
    thoughtSignature: z
      .object({ file: plainFileNameSchema, bytes: z.number().int().positive(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })
      .strict()
      .optional(),
    /** The request's `generationConfig.seed` and where it came from (absent: the request carried none). */
    seed: generationPromptSchema.shape.seed,
    thoughtImages: z.array(imageFileSchema),
    source: z
      .object({ path: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), variant: z.number().int().min(1), shot: z.string().min(1).optional() })
      .strict()
      .optional(),
    /** The character's references the request carried, in the order sent (input-folder paths and their bytes' sha256). */
    references: z.array(z.object({ path: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict()).optional(),
    /** Where `chargen extract` read the image from, when there was no run behind it. */
    resultFile: z.object({ path: z.string(), line: z.number().int().min(1) }).strict().optional(),
    analysis: analysisRecordSchema.optional(),
    prompt: z.string().optional(),
    model: z.string().optional(),
    imageConfig: imageConfigSchema.optional(),
    finishReason: z.string(),
    /** usageMetadata as the API gave it, thought tokens included. */
    usage: z.record(z.string(), z.unknown()).optional(),
    textParts: z.array(z.string()),
    warnings: z.array(z.string()),
  })
  .strict();
export type ImageSidecar = z.infer<typeof imageSidecarSchema>;

/** A sidecar that parses, or undefined: one that is missing, edited or foreign just means the output is redone. */
export async function readImageSidecar(path: string): Promise<ImageSidecar | undefined> {
  try {
    const parsed = imageSidecarSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
