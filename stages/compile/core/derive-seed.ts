import { createHash } from 'node:crypto';
import { hashCanonical, toCanonicalJson } from '../../../lib/canonical-json.ts';
import type { AnalyzedImage } from '../../analyze/analysis-result.ts';
import type { GenerationPrompt } from '../../../schemas/generation-prompt.ts';
import { maxSeed, type Shot } from '../../../schemas/shot-settings.ts';
import type { CompileSettings } from '../../../schemas/compile-settings.ts';

/**
 * What a character's seeds derive from: its bytes, not its name, so a renamed file or folder keeps its seeds and two
 * characters of the same bytes still share their paid images. An image of its own: its sha256 (as before folders); a
 * folder: the set of all its references' sha256 (their order, which the analysis may change, aside).
 */
export function identifyCharacter(analyzed: Pick<AnalyzedImage, 'sha256' | 'references' | 'otherReferences'>): string {
  const all = new Set([...(analyzed.references ?? []), ...(analyzed.otherReferences ?? [])].map((reference) => reference.sha256));
  return all.size > 1 ? hashCanonical([...all].sort()) : analyzed.sha256;
}

/**
 * The seed of one character's shot: a hash of the character (identifyCharacter), the shot (its name, or its number) and compile.seed
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
