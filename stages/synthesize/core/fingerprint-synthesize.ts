import { createHash } from 'node:crypto';
import { hashCanonical, toCanonicalJson } from '../../../lib/canonical-json.ts';
import type { GenerationPrompt } from '../../../schemas/generation-prompt.ts';
import type { SynthesizeSettings } from '../../../schemas/synthesize-settings.ts';

interface SynthesizeFingerprintInput {
  settings: SynthesizeSettings;
  outputDirectory: string;
  backend: string;
  codeVersion: string;
}

type FingerprintedPrompt = Pick<GenerationPrompt, 'key' | 'variant' | 'seed'> & { sourceImage: Pick<GenerationPrompt['sourceImage'], 'path'> };

/** A prompt as the fingerprint sees it: its seed is outside its key (which stays the key older prompts had), so added here. */
function toFingerprintEntry(prompt: FingerprintedPrompt): unknown[] {
  return [prompt.key, prompt.sourceImage.path, prompt.variant, ...(prompt.seed ? [prompt.seed] : [])];
}

/** The settings as fingerprinted: `sheet` only when on, so a workspace without sheets keeps the fingerprint it had. */
function toFingerprintSettings(settings: SynthesizeSettings): Omit<SynthesizeSettings, 'sheet'> & { sheet?: true } {
  const { sheet, ...rest } = settings;
  return sheet ? { ...rest, sheet } : rest;
}

/** Changes exactly when synthesize's outputs could: a prompt, a setting, the output folder, the backend or the code. */
export function fingerprintSynthesize(options: SynthesizeFingerprintInput & { prompts: readonly FingerprintedPrompt[] }): string {
  return hashCanonical({
    prompts: options.prompts.map(toFingerprintEntry),
    settings: toFingerprintSettings(options.settings),
    out: options.outputDirectory,
    backend: options.backend,
    code: options.codeVersion,
  });
}

/**
 * fingerprintSynthesize a page of prompts at a time, for prompts read in their checkpoint's order: the same text is
 * hashed (keys in canonical order: backend, code, out, prompts, settings), without the prompts all in memory.
 */
export function createSynthesizeFingerprint(options: SynthesizeFingerprintInput): { add(prompts: readonly FingerprintedPrompt[]): void; digest(): string } {
  const hash = createHash('sha256').update(`{"backend":${toCanonicalJson(options.backend)},"code":${toCanonicalJson(options.codeVersion)},"out":${toCanonicalJson(options.outputDirectory)},"prompts":[`);
  let first = true;
  return {
    add(prompts) {
      for (const prompt of prompts) {
        hash.update(`${first ? '' : ','}${toCanonicalJson(toFingerprintEntry(prompt))}`);
        first = false;
      }
    },
    digest: () => hash.update(`],"settings":${toCanonicalJson(toFingerprintSettings(options.settings))}}`).digest('hex'),
  };
}
