import { z } from 'zod';

/** What the image stage decides beyond the prompt itself (the model and imageConfig come with each prompt). */
export const synthesizeSettingsSchema = z
  .object({
    responseModalities: z
      .enum(['IMAGE', 'TEXT_AND_IMAGE'])
      .default('IMAGE')
      .describe('IMAGE asks for the image alone; TEXT_AND_IMAGE also lets the model explain itself (kept in the sidecar)'),
    keepThoughts: z
      .boolean()
      .default(false)
      .describe('ask for the model\'s thoughts (thinkingConfig.includeThoughts) and keep the interim "thought" images it draws before its final one, as <name>.thought-N.<ext>'),
    sheet: z
      .boolean()
      .default(false)
      .describe(
        'first make one turnaround sheet per character (front, side, back; templates/sheet.hbs), <name>-turnaround-sheet.<ext>, then carry it as the first reference of every shot; a sheet changed by hand in the output folder is used as it is',
      ),
  })
  .strict();

export type SynthesizeSettings = z.infer<typeof synthesizeSettingsSchema>;
