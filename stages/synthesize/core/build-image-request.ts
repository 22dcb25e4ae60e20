import type { RequestLine } from '../../../lib/gemini/line-outcome.ts';
import { findServedModel } from '../../../schemas/gemini-models.ts';
import type { GenerationPrompt } from '../../../schemas/generation-prompt.ts';
import { hashCanonical } from '../../../lib/canonical-json.ts';
import type { SynthesizeSettings } from '../../../schemas/synthesize-settings.ts';

const modalities: Record<SynthesizeSettings['responseModalities'], string[]> = {
  IMAGE: ['IMAGE'],
  TEXT_AND_IMAGE: ['TEXT', 'IMAGE'],
};

/**
 * Thought parts (interim images) come only when asked for (recorded answers without includeThoughts carry none), so
 * keepThoughts asks; a model the catalog knows does not think is not asked.
 */
function wantsThoughts(options: { model: string; settings: SynthesizeSettings }): boolean {
  return options.settings.keepThoughts && findServedModel(options.model)?.thinking !== false;
}

/**
 * One request per prompt (a variant or a shot is its own prompt), with the prompt's seed as `generationConfig.seed`
 * (the SDK's GenerateContentConfig.seed, sent under that name in generationConfig, @google/genai 2.32). The key hashes the request with the reference image's URI
 * left out (its bytes are in the prompt's key), so an upload that expired and was redone never makes a paid image new.
 */
export function buildImageRequest(options: { prompt: GenerationPrompt; settings: SynthesizeSettings; referenceFileUri?: string }): RequestLine {
  const { prompt, settings } = options;
  const request = (fileUri: string | undefined): Record<string, unknown> => ({
    contents: [
      {
        role: 'user',
        parts: [
          { text: prompt.prompt },
          ...(fileUri !== undefined ? [{ fileData: { fileUri, mimeType: prompt.sourceImage.mimeType } }] : []),
        ],
      },
    ],
    generationConfig: {
      responseModalities: modalities[settings.responseModalities],
      imageConfig: { ...prompt.imageConfig },
      ...(prompt.seed ? { seed: prompt.seed.value } : {}),
      ...(wantsThoughts({ model: prompt.model, settings }) ? { thinkingConfig: { includeThoughts: true } } : {}),
    },
    ...(prompt.safetySettings ? { safetySettings: prompt.safetySettings } : {}),
  });
  const reference = options.referenceFileUri !== undefined ? '' : undefined;
  const key = hashCanonical({ kind: 'image', model: prompt.model, prompt: prompt.key, request: request(reference) });
  return { key, request: request(options.referenceFileUri) };
}

/** The key a prompt's request has whatever its reference image's upload (the URI is left out of the key). */
export function computeImageRequestKey(options: { prompt: GenerationPrompt; settings: SynthesizeSettings }): string {
  return buildImageRequest({ ...options, ...(options.prompt.useReferenceImage ? { referenceFileUri: '' } : {}) }).key;
}

/**
 * The prompt as an older chargen sent it, without a seed, when its seed is chargen's own choice (`auto`): an answer
 * received for that request, before seeds were sent, stands in for the seeded one, so an upgrade pays for no image
 * again. A seed the user chose (compile.seed, a shot's seed) is always sent. Undefined when there is no such request.
 */
export function toUnseededPrompt(prompt: GenerationPrompt): GenerationPrompt | undefined {
  if (prompt.seed?.source !== 'auto') return undefined;
  const { seed: _seed, ...unseeded } = prompt;
  return unseeded;
}
