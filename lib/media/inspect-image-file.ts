import { open, type FileHandle } from 'node:fs/promises';
import { isJpegStartOfFrame } from './inspect-jpeg.ts';
import { PNG_SIGNATURE } from './inspect-png.ts';

export type ImageFileInspection =
  | { ok: true; format: 'png' | 'jpeg' | 'webp'; mimeType: string; extension: string; width: number; height: number; bytes: number }
  | { ok: false; reason: string };

const pngSignature = Buffer.from(PNG_SIGNATURE);
const pngEnd = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const maxDimension = 65_535;

/**
 * The on-disk entry of the one media inspector (`inspectImage` is the in-memory one; both take the formats' marks
 * from the per-format files). Checks a generated image on disk by its magic bytes, its decoded dimensions and its
 * end marker, reading only a few kilobytes of it: images are tens of MB and come by the thousand, so they are never
 * read whole (which is why it does not call inspectImage, which walks every byte).
 */
export async function inspectImageFile(path: string): Promise<ImageFileInspection> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return { ok: false, reason: 'empty image' };
    const head = await readAt(handle, 0, Math.min(size, 64));
    const tail = await readAt(handle, Math.max(0, size - 32), Math.min(size, 32));
    if (head.subarray(0, 8).equals(pngSignature)) return inspectPng(head, tail, size);
    if (head[0] === 0xff && head[1] === 0xd8) return await inspectJpeg(handle, tail, size);
    if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return inspectWebp(head, size);
    return { ok: false, reason: `not a PNG, JPEG or WebP image (starts with ${head.subarray(0, 8).toString('hex')})` };
  } finally {
    await handle.close();
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read({ buffer, position, length });
  return buffer.subarray(0, bytesRead);
}

function accept(options: { format: 'png' | 'jpeg' | 'webp'; width: number; height: number; bytes: number }): ImageFileInspection {
  const { format, width, height, bytes } = options;
  if (width < 1 || height < 1 || width > maxDimension || height > maxDimension) {
    return { ok: false, reason: `${format.toUpperCase()} with impossible dimensions ${width}×${height}` };
  }
  const mimeType = `image/${format}`;
  return { ok: true, format, mimeType, extension: format === 'jpeg' ? 'jpg' : format, width, height, bytes };
}

function inspectPng(head: Buffer, tail: Buffer, size: number): ImageFileInspection {
  if (head.length < 24 || head.toString('latin1', 12, 16) !== 'IHDR') return { ok: false, reason: 'PNG without an IHDR header' };
  if (!tail.subarray(tail.length - pngEnd.length).equals(pngEnd)) return { ok: false, reason: 'PNG cut short (no IEND at its end)' };
  return accept({ format: 'png', width: head.readUInt32BE(16), height: head.readUInt32BE(20), bytes: size });
}

async function inspectJpeg(handle: FileHandle, tail: Buffer, size: number): Promise<ImageFileInspection> {
  if (tail.lastIndexOf(Buffer.from([0xff, 0xd9])) < 0) return { ok: false, reason: 'JPEG cut short (no end-of-image marker)' };
  // Walk the segments up to the frame header; APPn segments (EXIF, ICC) can be large, so each header is read alone.
  let position = 2;
  while (position + 4 <= size) {
    const header = await readAt(handle, position, 9);
    if (header[0] !== 0xff) return { ok: false, reason: `JPEG segment expected at byte ${position}` };
    const marker = header[1] ?? 0;
    if (marker === 0xff) {
      position += 1;
      continue;
    }
    if (isJpegStartOfFrame(marker)) {
      if (header.length < 9) break;
      return accept({ format: 'jpeg', width: header.readUInt16BE(7), height: header.readUInt16BE(5), bytes: size });
    }
    if (marker === 0xd9 || marker === 0xda) break;
    position += 2 + header.readUInt16BE(2);
  }
  return { ok: false, reason: 'JPEG without a frame header (no dimensions)' };
}

function inspectWebp(head: Buffer, size: number): ImageFileInspection {
  if (head.readUInt32LE(4) + 8 !== size) return { ok: false, reason: `WebP cut short or padded (RIFF says ${head.readUInt32LE(4) + 8} bytes, file has ${size})` };
  const chunk = head.toString('latin1', 12, 16);
  if (chunk === 'VP8X' && head.length >= 30) {
    return accept({ format: 'webp', width: head.readUIntLE(24, 3) + 1, height: head.readUIntLE(27, 3) + 1, bytes: size });
  }
  if (chunk === 'VP8L' && head.length >= 25 && head[20] === 0x2f) {
    const bits = head.readUInt32LE(21);
    return accept({ format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, bytes: size });
  }
  if (chunk === 'VP8 ' && head.length >= 30 && head[23] === 0x9d && head[24] === 0x01 && head[25] === 0x2a) {
    return accept({ format: 'webp', width: head.readUInt16LE(26) & 0x3fff, height: head.readUInt16LE(28) & 0x3fff, bytes: size });
  }
  return { ok: false, reason: 'WebP without a readable frame header' };
}
