import { createHash } from 'node:crypto';
import { toCanonicalJson } from '../../../lib/canonical-json.ts';
import type { GenerationPrompt } from '../../../schemas/generation-prompt.ts';
import { maxSeed, type Shot } from '../../../schemas/shot-settings.ts';
import type { CompileSettings } from '../../../schemas/compile-settings.ts';

/**
 * The seed of one character's shot: a hash of the character (its reference's bytes, so a renamed file or a second name
 * of the same bytes keeps its seed and shares its paid image), the shot (its name, or its number) and compile.seed
 * when set, folded into the API's non-negative int32. Stable across reruns and machines; distinct between shots.
 */
export function deriveSeed(options: { character: string; shot: Shot; settings: Pick<CompileSettings, 'seed'> }): GenerationPrompt['seed'] {
  const { shot, settings } = options;
  if (settings.seed === 'off') return undefined;
  if (shot.seed !== undefined) return { value: shot.seed, source: 'shot' };
  const base = settings.seed === 'auto' ? undefined : settings.seed;
  const text = toCanonicalJson({ character: options.character, shot: shot.name ?? shot.variant, ...(base !== undefined ? { base } : {}) });
  const value = createHash('sha256').update(text).digest().readUInt32BE(0) & maxSeed;
  return { value, source: base === undefined ? 'auto' : 'config' };
}
