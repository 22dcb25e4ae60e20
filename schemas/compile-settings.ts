import { z } from 'zod';
import { analysisFieldNames } from './analysis.ts';
import { describeImageConfigProblems, describeRetiredModel } from './gemini-models.ts';
import { imageConfigSchema } from './generation-prompt.ts';
import { safetySettingSchema } from './analyze-settings.ts';
import { findShotNameClashes, listShots, seedSettingSchema, variantsSchema } from './shot-settings.ts';

const fieldValue = z.union([z.string(), z.number(), z.array(z.string())]);
const knownFields = new Set<string>(analysisFieldNames);
const unknownFieldMessage = (name: string) => `unknown field "${name}"; the fields are ${analysisFieldNames.join(', ')}`;

/** Field → value maps whose every key must be a record field: a typo would otherwise do nothing, silently. Each map
 * checks itself, so every mistake in the config is reported at once. */
const fieldMap = z.record(z.string(), fieldValue).superRefine((map, context) => {
  for (const name of Object.keys(map)) {
    if (!knownFields.has(name)) context.addIssue({ code: 'custom', path: [name], message: unknownFieldMessage(name) });
  }
});
const fieldName = z.string().refine((name) => knownFields.has(name), { error: (issue) => unknownFieldMessage(String(issue.input)) });

export const compileSettingsSchema = z
  .object({
    templateDirectory: z.string().optional().describe('a folder with character.hbs and partials/; the built-in templates when unset'),
    model: z.string().min(1).default('gemini-3-pro-image').describe('the image model: gemini-3-pro-image, gemini-nano-banana-2.1, gemini-3.1-flash-lite-image, …'),
    imageConfig: imageConfigSchema.default(imageConfigSchema.parse({})),
    variants: variantsSchema,
    seed: seedSettingSchema,
    useReferenceImage: z.boolean().default(true).describe('send the source image with the prompt, as a fileData part'),
    safetySettings: z.array(safetySettingSchema).optional(),
    defaults: fieldMap.default({}).describe('fill a field the analysis left empty'),
    overrides: fieldMap.default({}).describe('force a field, whatever the analysis said'),
    when: z
      .array(z.object({ field: fieldName, equals: fieldValue, set: fieldMap }).strict())
      .default([])
      .describe('if field equals value then set fields, applied in order after defaults and overrides'),
  })
  .strict()
  .superRefine((settings, context) => {
    // Known before anything is spent: a retired model, or an image size or ratio the model does not take.
    const retired = describeRetiredModel(settings.model);
    if (retired) context.addIssue({ code: 'custom', path: ['model'], message: retired });
    for (const problem of describeImageConfigProblems({ model: settings.model, imageConfig: settings.imageConfig })) {
      context.addIssue({ code: 'custom', path: ['imageConfig'], message: problem });
    }
    for (const shot of listShots(settings.variants)) {
      const path = ['variants', shot.variant - 1];
      if (shot.aspectRatio !== undefined) {
        for (const problem of describeImageConfigProblems({ model: settings.model, imageConfig: { aspectRatio: shot.aspectRatio } })) {
          context.addIssue({ code: 'custom', path: [...path, 'aspectRatio'], message: problem });
        }
      }
    }
    for (const clash of findShotNameClashes(listShots(settings.variants))) {
      const written = Array.isArray(settings.variants) ? settings.variants[clash.variant - 1] : undefined;
      context.addIssue({ code: 'custom', path: ['variants', clash.variant - 1, ...(typeof written === 'object' ? ['name'] : [])], message: clash.message });
    }
  });

export type CompileSettings = z.infer<typeof compileSettingsSchema>;
