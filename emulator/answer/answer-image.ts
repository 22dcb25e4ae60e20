import { findImageDimensions } from '../image-dimensions.ts';
import { convertPngToJpeg } from '../jpeg/encode-jpeg.ts';
import type { ModelInfo } from '../model-catalog.ts';
import { encodePng, formatProvenance, type CardProvenance, type PngVariant } from '../png/encode-png.ts';
import { createThoughtSignature, createUsage, estimateTokens } from './answer-parts.ts';

export interface ImageAnswerOptions {
  model: ModelInfo;
  aspectRatio: string;
  imageSize: string;
  wantsText: boolean;
  includeThoughts: boolean;
  /** `thinkingConfig.thinkingLevel` in upper case, when asked. */
  thinkingLevel: string | undefined;
  requestSeed: string;
  /** Drawn on the final image and written into its file: the references and seed it was made from. */
  provenance: CardProvenance;
  promptTokens: number;
  inputImages: number;
  thoughtTokens: number;
  base: Record<string, unknown>;
}

/** Bytes of the emulator's image signatures (a real one on gemini-3-pro-image was 2.2 MB decoded). */
const imageSignatureBytes = 4096;
const textSignatureBytes = 256;

async function drawImage(options: { model: ModelInfo; width: number; height: number; seed: string; variant: PngVariant; provenance?: CardProvenance }): Promise<{ mimeType: string; data: string }> {
  const provenance = options.provenance;
  const png = encodePng({ width: options.width, height: options.height, seed: options.seed, variant: options.variant, ...(provenance ? { provenance } : {}) });
  const jpeg = options.model.served.image?.outputMimeType === 'image/jpeg';
  return { mimeType: jpeg ? 'image/jpeg' : 'image/png', data: (jpeg ? await convertPngToJpeg(png, provenance ? formatProvenance(provenance) : undefined) : png).toString('base64') };
}

/**
 * An image model's answer, shaped as recorded answers are:
 * - gemini-3-pro-image (pydantic-ai cassette, 2026-07-29): one JPEG part carrying a `thoughtSignature`; with TEXT
 *   asked too, a text part first that carries its own signature (the -preview recording of 2025-11);
 * - gemini-2.5-flash-image (pydantic-ai cassettes, 2025-10): PNG, no signatures, no thought tokens;
 * - thought parts (`thought: true` text and a draft image) only when `thinkingConfig.includeThoughts` is set
 *   (no recording has them; a user's paste in vercel/ai#11461 shows the shape), unsigned, before the answer.
 */
export async function answerWithImage(options: ImageAnswerOptions): Promise<Record<string, unknown>> {
  const { model, requestSeed } = options;
  const finalSize = findImageDimensions({ aspectRatio: options.aspectRatio, imageSize: options.imageSize });
  const draftSize = findImageDimensions({ aspectRatio: options.aspectRatio, imageSize: '1K' });
  if (!finalSize || !draftSize) throw new Error('image dimensions were checked before');
  const signs = model.served.thinking;
  const signature = (name: string, bytes: number) => (signs ? { thoughtSignature: createThoughtSignature({ seed: `${name}:${requestSeed}`, bytes }) } : {});
  const caption = `A character sheet render, ${finalSize.width}x${finalSize.height}.`;
  const thoughtParts = options.includeThoughts && signs
    ? [
        { text: '**Planning the composition**\n\nPose, palette and lighting from the description.', thought: true },
        { inlineData: await drawImage({ model, ...draftSize, seed: requestSeed, variant: 'draft' }), thought: true },
      ]
    : [];
  const parts: Record<string, unknown>[] = [
    ...thoughtParts,
    ...(options.wantsText ? [{ text: caption, ...signature('text', textSignatureBytes) }] : []),
    { inlineData: await drawImage({ model, ...finalSize, seed: requestSeed, variant: 'final', provenance: options.provenance }), ...signature('image', imageSignatureBytes) },
  ];
  const imageTokens = model.served.image?.outputTokens[options.imageSize] ?? 1120;
  // Gemini 3 Pro Image always thinks (thoughtsTokenCount on its recorded answer); 3.1 Flash Image thinks minimally
  // unless asked more (or asked for its thoughts), and its recorded answer counts no thought tokens (vercel/ai
  // google-image-gemini-3.1-flash-image.json).
  const thinksAloud =
    model.served.image?.thinkingAlwaysOn === true || options.includeThoughts || (options.thinkingLevel !== undefined && options.thinkingLevel !== 'MINIMAL');
  const candidateTokens = imageTokens + (options.wantsText ? estimateTokens(caption) : 0);
  return {
    candidates: [{ content: { parts, role: 'model' }, finishReason: 'STOP', index: 0 }],
    usageMetadata: createUsage({
      prompt: options.promptTokens,
      images: options.inputImages,
      candidates: candidateTokens,
      thoughts: signs && thinksAloud ? options.thoughtTokens : 0,
      outputModality: 'IMAGE',
      imageTokens,
    }),
    ...options.base,
  };
}
