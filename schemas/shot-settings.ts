import { z } from 'zod';
import { aspectRatios } from './generation-prompt.ts';

/** The seed field is an int32 in the API's GenerationConfig; negative seeds are never derived, so none are taken. */
export const maxSeed = 2 ** 31 - 1;
const seedValue = z.number().int().min(0).max(maxSeed);

export const shotSchema = z.union([
  z.string().trim().min(1).describe('a shot by its name, which is also its line in the prompt: "three-quarter portrait"'),
  z
    .object({
      name: z.string().trim().min(1).describe('names the output file (hero-action-pose.png) and, without prompt, is the line in the prompt'),
      prompt: z.string().trim().min(1).optional().describe('the line this shot adds to the prompt (templates/partials/shot.hbs), instead of its name'),
      aspectRatio: z.enum(aspectRatios).optional().describe("this shot's frame, instead of imageConfig.aspectRatio"),
      seed: seedValue.optional().describe('this shot always uses this seed, for every character'),
    })
    .strict(),
]);

export const variantsSchema = z
  .union([
    z.number().int().min(1).max(16).describe('how many images of each character (numbered: hero, hero-2, …)'),
    z.array(shotSchema).min(1).max(16).describe('named shots: one image of each character per shot, named after it'),
  ])
  .default(1)
  .describe('distinct images per character: a number, or a list of named shots');

export const seedSettingSchema = z
  .union([z.enum(['auto', 'off']), seedValue])
  .default('auto')
  .describe(
    'auto: each request carries a seed derived from the character and the shot (an image received before chargen sent seeds is kept); a number: seeds derived from it instead (change it for new images of every shot); off: no seed',
  );

/** One image each character gets: its place in the list (1-based) and, for a named shot, what the shot says. */
export interface Shot {
  variant: number;
  name?: string;
  prompt?: string;
  aspectRatio?: (typeof aspectRatios)[number];
  seed?: number;
}

/** `variants: 3` → three unnamed shots; a list → its shots in order, a bare name standing for `{ name }`. */
export function listShots(variants: z.infer<typeof variantsSchema>): Shot[] {
  if (typeof variants === 'number') return Array.from({ length: variants }, (_unused, index) => ({ variant: index + 1 }));
  return variants.map((shot, index) => (typeof shot === 'string' ? { variant: index + 1, name: shot } : { variant: index + 1, ...shot }));
}

/**
 * Two names that would give the same file name (case and punctuation aside) are one shot written twice, or two
 * shots whose images would be told apart only by a hash: both are reported, with the paths of both.
 */
export function findShotNameClashes(shots: readonly Shot[]): Array<{ variant: number; message: string }> {
  const seen = new Map<string, Shot>();
  const clashes: Array<{ variant: number; message: string }> = [];
  for (const shot of shots) {
    if (shot.name === undefined) continue;
    const folded = shot.name.normalize('NFC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
    const earlier = seen.get(folded);
    if (earlier) clashes.push({ variant: shot.variant, message: `shot "${shot.name}" would have the same file name as shot ${earlier.variant} ("${earlier.name}"); give each shot its own name` });
    else seen.set(folded, shot);
  }
  return clashes;
}
