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

type FingerprintedPrompt = Pick<GenerationPrompt, 'key' | 'variant'> & { sourceImage: Pick<GenerationPrompt['sourceImage'], 'path'> };

/** Changes exactly when synthesize's outputs could: a prompt, a setting, the output folder, the backend or the code. */
export function fingerprintSynthesize(options: SynthesizeFingerprintInput & { prompts: readonly FingerprintedPrompt[] }): string {
  return hashCanonical({
    prompts: options.prompts.map((prompt) => [prompt.key, prompt.sourceImage.path, prompt.variant]),
    settings: options.settings,
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
        hash.update(`${first ? '' : ','}${toCanonicalJson([prompt.key, prompt.sourceImage.path, prompt.variant])}`);
        first = false;
      }
    },
    digest: () => hash.update(`],"settings":${toCanonicalJson(options.settings)}}`).digest('hex'),
  };
}
