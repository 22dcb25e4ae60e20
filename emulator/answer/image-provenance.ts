import type { ModelInfo } from '../model-catalog.ts';
import type { NormalizedRequest } from '../normalize-request.ts';
import type { CardProvenance } from '../png/encode-png.ts';

/**
 * Why the API refuses a request with more input images than an image model takes (the catalog's
 * maxReferenceImages: 14 on Gemini 3 Pro Image, 3 on 2.5 Flash Image), or undefined when it takes them. No recording
 * of this refusal was found (searched public issues and code, 2026-12-02): the Gemini API's generic 400
 * INVALID_ARGUMENT message is used, as recorded for other refused image requests to gemini-3-pro-image
 * (lbjlaq/Antigravity-Manager#1266) and gemini-3-flash-preview (su-kaka/gcli2api#297); microsoft/vscode#289484
 * reports a 400 from Gemini past its image limit without its text. A recording of the real message replaces this.
 */
export function describeTooManyImages(options: { model: ModelInfo; images: number }): string | undefined {
  const limit = options.model.served.image?.maxReferenceImages;
  if (limit === undefined || options.images <= limit) return undefined;
  return 'Request contains an invalid argument.';
}

/** What an image answer was made from: the referenced images' sha256 in order, and the request's seed if it has one. */
export function readProvenance(options: { request: NormalizedRequest; imageSha256s: readonly string[] }): CardProvenance {
  const seed = options.request.generationConfig?.['seed'];
  return { references: options.imageSha256s, ...(typeof seed === 'number' || typeof seed === 'string' ? { seed: String(seed) } : {}) };
}
