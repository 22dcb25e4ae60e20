import { z } from 'zod';

const text = (description: string) => z.string().min(1).describe(description);
const hexColour = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/)
  .describe('a colour as #rrggbb');

/**
 * What a character designer needs from one reference image. Every description is read by the model: it is the
 * instruction for that field, so it says what to look for and what to write when the image does not show it.
 */
export const analysisRecordSchema = z
  .object({
    archetype: text('The character’s role or type in a story, in a few words (e.g. "wandering knight", "street urchin").'),
    species: text('Species or kind of being (e.g. "human", "elf", "robot", "fox"). Write "unknown" if it cannot be told.'),
    apparent_age: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .describe('Apparent age in years, as a whole number, judged from the image (a best guess; 0 for an ageless object).'),
    visual_traits: z
      .array(z.string().min(1))
      .min(1)
      .max(12)
      .describe('Physical traits a redraw must keep: build, face, hair, skin, eyes, distinctive marks. One short phrase each.'),
    clothing: text('Clothing and armour, from head to foot, with materials and colours.'),
    notable_features: z
      .array(z.string().min(1))
      .max(12)
      .describe('Props, accessories, weapons, companions or anything else that identifies the character. Empty if none.'),
    colour_palette: z.array(hexColour).min(2).max(8).describe('The character’s main colours, most prominent first, as #rrggbb.'),
    mood: text('The mood or expression the character conveys (e.g. "stern", "playful").'),
    lighting: text('The lighting of the reference (direction, quality, colour).'),
    background: text('The background or setting behind the character; "plain" if there is none.'),
    art_style: text('The art style or medium of the reference (e.g. "cel-shaded anime", "oil painting", "photograph").'),
    pose: text('The character’s pose and camera angle (e.g. "standing, three-quarter view, looking left").'),
  })
  .strict();

export type AnalysisRecord = z.infer<typeof analysisRecordSchema>;
export const analysisFieldNames = Object.keys(analysisRecordSchema.shape) as (keyof AnalysisRecord)[];
