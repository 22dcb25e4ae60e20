import { z } from 'zod';

export const thinkingLevels = ['MINIMAL', 'LOW', 'MEDIUM', 'HIGH'] as const;

export const safetySettingSchema = z
  .object({
    category: z.enum(['HARM_CATEGORY_HARASSMENT', 'HARM_CATEGORY_HATE_SPEECH', 'HARM_CATEGORY_SEXUALLY_EXPLICIT', 'HARM_CATEGORY_DANGEROUS_CONTENT', 'HARM_CATEGORY_CIVIC_INTEGRITY']),
    threshold: z.enum(['BLOCK_LOW_AND_ABOVE', 'BLOCK_MEDIUM_AND_ABOVE', 'BLOCK_ONLY_HIGH', 'BLOCK_NONE', 'OFF']),
  })
  .strict();

export const analyzeSettingsSchema = z
  .object({
    patterns: z
      .array(z.string().min(1))
      .min(1)
      .default(['**/*.{png,jpg,jpeg,webp,heic,heif}'])
      .describe('glob patterns of the images, relative to the input folder (matched case-insensitively)'),
    ignore: z.array(z.string().min(1)).default([]).describe('glob patterns to leave out'),
    maxImageBytes: z.number().int().positive().default(50 * 1024 * 1024).describe('larger images are reported, not uploaded'),
    model: z.string().min(1).default('gemini-3-flash-preview').describe('e.g. gemini-3-pro-preview for hard images'),
    temperature: z.number().min(0).max(2).default(0.2).describe('low: the same image should get the same description'),
    thinkingLevel: z.enum(thinkingLevels).optional().describe('thinkingConfig.thinkingLevel, when set'),
    safetySettings: z.array(safetySettingSchema).optional(),
    schemaField: z
      .enum(['responseSchema', 'responseJsonSchema'])
      .default('responseSchema')
      .describe('how the schema is sent; responseJsonSchema is reported to misbehave in batch (ruby_llm#894)'),
  })
  .strict();

export type AnalyzeSettings = z.infer<typeof analyzeSettingsSchema>;
