import { hashCanonical } from '../../../lib/canonical-json.ts';
import type { GenerationPrompt } from '../../../schemas/generation-prompt.ts';
import type { SynthesizeSettings } from '../../../schemas/synthesize-settings.ts';

/** Changes exactly when synthesize's outputs could: a prompt, a setting, the output folder, the backend or the code. */
export function fingerprintSynthesize(options: { prompts: readonly GenerationPrompt[]; settings: SynthesizeSettings; outputDirectory: string; backend: string; codeVersion: string }): string {
  return hashCanonical({
    prompts: options.prompts.map((prompt) => [prompt.key, prompt.sourceImage.path, prompt.variant]),
    settings: options.settings,
    out: options.outputDirectory,
    backend: options.backend,
    code: options.codeVersion,
  });
}
