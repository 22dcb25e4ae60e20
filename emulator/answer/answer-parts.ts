import { createHash } from 'node:crypto';

export function sha256(input: string | Buffer): string {
  return createHash('sha256').update(input).digest('hex');
}

export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Input image tokens at the default resolution (Vertex model card of Gemini 3 Pro Image). */
export const inputImageTokens = 560;

/**
 * A `thoughtSignature`: opaque base64 bytes, derived from the request so answers stay deterministic. Real ones start
 * with `E` (a protobuf field) and are large: about 2.9 MB of base64 on a recorded gemini-3-pro-image answer, a few
 * hundred bytes on text. The emulator's are `bytes` long, enough for readers to meet a signature that is not tiny.
 */
export function createThoughtSignature(options: { seed: string; bytes: number }): string {
  const pieces: Buffer[] = [Buffer.from([0x12])];
  let length = 1;
  for (let index = 0; length < options.bytes; index += 1) {
    const piece = createHash('sha256').update(`${options.seed}:${index}`).digest();
    pieces.push(piece);
    length += piece.length;
  }
  return Buffer.concat(pieces).subarray(0, options.bytes).toString('base64');
}

/**
 * usageMetadata in the order real answers write it (maruel/genai and vercel/ai recordings): prompt, candidates and
 * total counts, the details, then thoughtsTokenCount (thinking models only) and `serviceTier: "standard"` (present on
 * the Developer API in recordings since May 2026). candidatesTokensDetails is written for image answers only.
 */
export function createUsage(options: { prompt: number; images: number; candidates: number; thoughts: number; outputModality: 'TEXT' | 'IMAGE'; imageTokens?: number }) {
  const promptTokenCount = options.prompt + options.images * inputImageTokens;
  return {
    promptTokenCount,
    ...(options.candidates > 0 ? { candidatesTokenCount: options.candidates } : {}),
    totalTokenCount: promptTokenCount + options.candidates + options.thoughts,
    promptTokensDetails: [
      { modality: 'TEXT', tokenCount: options.prompt },
      ...(options.images > 0 ? [{ modality: 'IMAGE', tokenCount: options.images * inputImageTokens }] : []),
    ],
    ...(options.outputModality === 'IMAGE' ? { candidatesTokensDetails: [{ modality: 'IMAGE', tokenCount: options.imageTokens ?? options.candidates }] } : {}),
    ...(options.thoughts > 0 ? { thoughtsTokenCount: options.thoughts } : {}),
    serviceTier: 'standard',
  };
}
