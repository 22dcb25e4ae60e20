import type { RequestLine } from '../../../lib/gemini/line-outcome.ts';
import { findServedModel } from '../../../schemas/gemini-models.ts';
import { listPromptReferences, type GenerationPrompt } from '../../../schemas/generation-prompt.ts';
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
 * One request per prompt (a variant or a shot is its own prompt): its text, then the character's references as
 * `fileData` in the prompt's order, and the prompt's seed as `generationConfig.seed` (the SDK's
 * GenerateContentConfig.seed, which @google/genai 2.32 sends under that name in generationConfig). The key hashes the
 * request with the references' URIs left out (their bytes are in the prompt's key), so an upload that expired and was
 * redone never makes a paid image new; a prompt of one reference and no seed has the request and key it had before
 * characters were folders and seeds were sent.
 */
export function buildImageRequest(options: { prompt: GenerationPrompt; settings: SynthesizeSettings; referenceFileUris?: readonly string[] }): RequestLine {
  const { prompt, settings } = options;
  const references = listPromptReferences(prompt);
  const request = (fileUris: readonly string[] | undefined): Record<string, unknown> => ({
    contents: [
      {
        role: 'user',
        parts: [
          { text: prompt.prompt },
          ...(fileUris ?? []).map((fileUri, index) => ({ fileData: { fileUri, mimeType: references[index]?.mimeType ?? prompt.sourceImage.mimeType } })),
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
  const key = hashCanonical({ kind: 'image', model: prompt.model, prompt: prompt.key, request: request(options.referenceFileUris?.map(() => '')) });
  return { key, request: request(options.referenceFileUris) };
}

/** The key a prompt's request has whatever its references' uploads (the URIs are left out of the key). */
export function computeImageRequestKey(options: { prompt: GenerationPrompt; settings: SynthesizeSettings }): string {
  const references = listPromptReferences(options.prompt);
  return buildImageRequest({ ...options, ...(references.length > 0 ? { referenceFileUris: references.map(() => '') } : {}) }).key;
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
