import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { inspectImage, type ImageFormat } from '../../lib/media/inspect-image.ts';

/** The formats Gemini takes as image input. */
const supportedFormats: ReadonlySet<ImageFormat> = new Set(['png', 'jpeg', 'webp', 'heic', 'heif']);

/** The formats chargen takes, as a user reads them: "PNG, JPEG, WebP, HEIC or HEIF". */
export const takenFormatsText = 'PNG, JPEG, WebP, HEIC or HEIF';
const formatsByExtension: Readonly<Record<string, ImageFormat>> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
  '.heic': 'heic',
  '.heif': 'heif',
};

export type InputImage =
  | { ok: true; sha256: string; format: ImageFormat; mimeType: string; width: number; height: number; sizeBytes: number; warning?: string }
  | { ok: false; reason: string; fix: string };

/** Judges an image by its bytes, never its name: real format, size, decodability, and a lying extension. */
export async function inspectInputImage(options: { path: string; sizeBytes: number; maxBytes: number }): Promise<InputImage> {
  if (options.sizeBytes === 0) return { ok: false, reason: 'empty file (0 bytes)', fix: 'Replace it with the image it should hold, or delete it.' };
  if (options.sizeBytes > options.maxBytes) {
    return {
      ok: false,
      reason: `${options.sizeBytes} bytes, over the ${options.maxBytes}-byte limit`,
      fix: 'Downscale or recompress it, or raise analyze.maxImageBytes in chargen.config.json.',
    };
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(options.path);
  } catch (error) {
    return { ok: false, reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, fix: 'Check the file’s permissions.' };
  }
  const inspection = inspectImage(bytes);
  if (!inspection.ok) {
    return { ok: false, reason: inspection.reason, fix: 'Re-export it as PNG, JPEG or WebP, or remove it from the input folder.' };
  }
  if (!supportedFormats.has(inspection.format)) {
    return { ok: false, reason: `a ${inspection.format.toUpperCase()} image, which Gemini does not take`, fix: 'Convert it to PNG, JPEG or WebP.' };
  }
  const claimed = formatsByExtension[extname(options.path).toLowerCase()];
  const lies = claimed !== undefined && claimed !== inspection.format && !(claimed === 'heif' && inspection.format === 'heic');
  return {
    ok: true,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    format: inspection.format,
    mimeType: inspection.mimeType,
    width: inspection.width,
    height: inspection.height,
    sizeBytes: bytes.length,
    ...(lies ? { warning: `named like ${claimed.toUpperCase()} but is ${inspection.format.toUpperCase()}; analysed as ${inspection.mimeType}` } : {}),
  };
}
