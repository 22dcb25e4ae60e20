import { z } from 'zod';
import { analysisRecordSchema } from '../../schemas/analysis.ts';

/** A reference image of a character, as its record names it. */
export const characterReferenceSchema = z
  .object({
    path: z.string().min(1).describe('relative to the input folder'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    mimeType: z.string(),
    width: z.number().int().nonnegative(),
    height: z.number().int().nonnegative(),
  })
  .strict();
export type CharacterReference = z.infer<typeof characterReferenceSchema>;

/**
 * One character's record: `sourcePath` is the character's name (its folder with a trailing `/`, or the image lying
 * directly in the input folder); sha256, mimeType, width and height are those of its first reference.
 */
export const analyzedImageSchema = z
  .object({
    sourcePath: z.string().min(1).describe('the character: a folder (`knight/`) or an image, relative to the input folder'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    mimeType: z.string(),
    width: z.number().int().nonnegative(),
    height: z.number().int().nonnegative(),
    model: z.string(),
    key: z.string(),
    record: analysisRecordSchema,
    usage: z.record(z.string(), z.unknown()).optional(),
    /** Another character with the same references: analysed once, the record serves both. */
    sameContentAs: z.string().optional(),
    /** The references the analysis request carried, in the order sent (most informative first). Absent before characters. */
    references: z.array(characterReferenceSchema).min(1).optional(),
    /** The character's other references, over the analysis budget (analyze.maxReferences): not sent to the analysis. */
    otherReferences: z.array(characterReferenceSchema).min(1).optional(),
  })
  .strict();
export type AnalyzedImage = z.infer<typeof analyzedImageSchema>;

export const analyzeFailureSchema = z
  .object({
    sourcePath: z.string().min(1),
    step: z.enum(['scan', 'inspect', 'upload', 'analyze']),
    reason: z.string(),
    fix: z.string(),
    /** Whether running again can mend it (a failed upload or answer can; a broken file or a refusal cannot). */
    retryable: z.boolean().optional(),
  })
  .strict();
export type AnalyzeFailure = z.infer<typeof analyzeFailureSchema>;

/** The analyze stage's checkpoint: versioned and validated in full when read back. */
export const analysisCheckpointSchema = z
  .object({
    kind: z.literal('chargen-analysis'),
    version: z.literal(1),
    /** What the stage consumed (input files, settings, template, backend, code version); unchanged means skip. */
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    records: z.array(analyzedImageSchema),
    failures: z.array(analyzeFailureSchema),
    warnings: z.array(z.string()),
  })
  .strict();
export type AnalysisCheckpoint = z.infer<typeof analysisCheckpointSchema>;
