// Decides from the bytes alone whether a file is an image the Gemini API would accept, and how big it is.
// The checks are structural (magic bytes, chunk/segment/box framing, checksums where the format has them, and
// for PNG the exact inflated size) so truncated or mangled uploads are caught before they cost a batch request.
// Every read is bounds-checked; malformed input yields `ok: false`, never an exception.
import { describeNonImage } from './describe-non-image.ts';
import { fail, type ImageInspection } from './image-inspection.ts';
import { inspectGif } from './inspect-gif.ts';
import { inspectIsoMedia } from './inspect-iso-media.ts';
import { inspectJpeg } from './inspect-jpeg.ts';
import { inspectPng } from './inspect-png.ts';
import { inspectRiff } from './inspect-webp.ts';
import { hasBytes, readAscii } from './read-image-bytes.ts';

export type { ImageFormat, ImageInspection } from './image-inspection.ts';

export function inspectImage(bytes: Uint8Array): ImageInspection {
  if (bytes.length === 0) return fail('empty file');
  try {
    return inspectByMagicBytes(bytes);
  } catch (error) {
    // Only reachable through a bug in the guards below; still better reported than thrown at the caller.
    return fail(`could not inspect file: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function inspectByMagicBytes(bytes: Uint8Array): ImageInspection {
  if (hasBytes(bytes, 0, [0x89, 0x50, 0x4e, 0x47])) return inspectPng(bytes);
  if (hasBytes(bytes, 0, [0xff, 0xd8])) return inspectJpeg(bytes);
  if (readAscii(bytes, 0, 4) === 'GIF8') return inspectGif(bytes);
  if (readAscii(bytes, 0, 4) === 'RIFF') return inspectRiff(bytes);
  if (readAscii(bytes, 4, 4) === 'ftyp') return inspectIsoMedia(bytes);
  return fail(describeNonImage(bytes));
}
