import { z } from 'zod';
import { describeRetiredModel } from './gemini-models.ts';

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
    maxReferences: z
      .number().int().min(1).max(900).default(14)
      .describe('references of one character sent in its analysis request, most informative first (the rest are named in a warning); Gemini 3 Flash takes up to 900 images a prompt at 1,120 tokens each'),
    model: z.string().min(1).default('gemini-3-flash-preview').describe('e.g. gemini-3.1-pro-preview for hard images, gemini-3.6-flash (GA)'),
    temperature: z
      .number().min(0).max(2).optional()
      .describe('sent only when set; Gemini 3 guides advise the default (lower values may loop), and Gemini 3.6 on ignores it'),
    topP: z.number().min(0).max(1).optional().describe('sent only when set (deprecated with temperature on 2026-07-21)'),
    topK: z.number().int().min(1).optional().describe('sent only when set (deprecated with temperature on 2026-07-21)'),
    thinkingLevel: z.enum(thinkingLevels).optional().describe('thinkingConfig.thinkingLevel, when set'),
    safetySettings: z.array(safetySettingSchema).optional(),
    schemaField: z
      .enum(['responseSchema', 'responseJsonSchema'])
      .default('responseSchema')
      .describe('how the schema is sent; responseJsonSchema is reported to misbehave in batch (ruby_llm#894)'),
  })
  .strict()
  .superRefine((settings, context) => {
    const retired = describeRetiredModel(settings.model);
    if (retired) context.addIssue({ code: 'custom', path: ['model'], message: retired });
  });

export type AnalyzeSettings = z.infer<typeof analyzeSettingsSchema>;
