// GIF: the header, every block up to the trailer, and at least one frame.
import { fail, succeed, type ImageInspection } from './image-inspection.ts';
import { formatHex, readAscii, readUint16LittleEndian, readUint8 } from './read-image-bytes.ts';

const GIF_TRAILER = 0x3b;
const GIF_EXTENSION = 0x21;
const GIF_IMAGE_DESCRIPTOR = 0x2c;

export function inspectGif(bytes: Uint8Array): ImageInspection {
  if (bytes.length < 6) return fail('truncated GIF: incomplete signature');
  const signature = readAscii(bytes, 0, 6);
  if (signature !== 'GIF87a' && signature !== 'GIF89a') return fail(`corrupted GIF: unknown version ${JSON.stringify(signature)}`);
  if (bytes.length < 13) return fail('truncated GIF: incomplete header');
  let width = readUint16LittleEndian(bytes, 6);
  let height = readUint16LittleEndian(bytes, 8);
  const flags = readUint8(bytes, 10);
  let offset = 13 + measureColourTableLength(flags);
  let frameCount = 0;
  let frameRight = 0;
  let frameBottom = 0;

  for (;;) {
    if (offset >= bytes.length) return fail('truncated GIF: no trailer (0x3B)');
    const block = readUint8(bytes, offset);
    if (block === GIF_TRAILER) break;
    if (block === GIF_EXTENSION) {
      const next = skipGifSubBlocks(bytes, offset + 2);
      if (next === undefined) return fail('truncated GIF: ends inside an extension block');
      offset = next;
    } else if (block === GIF_IMAGE_DESCRIPTOR) {
      if (offset + 11 > bytes.length) return fail('truncated GIF: ends inside an image descriptor');
      frameRight = Math.max(frameRight, readUint16LittleEndian(bytes, offset + 1) + readUint16LittleEndian(bytes, offset + 5));
      frameBottom = Math.max(frameBottom, readUint16LittleEndian(bytes, offset + 3) + readUint16LittleEndian(bytes, offset + 7));
      // 10 descriptor bytes, the optional local colour table, then one LZW code size byte before the data.
      const dataStart = offset + 10 + measureColourTableLength(readUint8(bytes, offset + 9)) + 1;
      const next = skipGifSubBlocks(bytes, dataStart);
      if (next === undefined) return fail('truncated GIF: ends inside image data');
      offset = next;
      frameCount++;
    } else {
      return fail(`corrupted GIF: unexpected block 0x${formatHex(block)} at byte ${offset}`);
    }
  }

  if (frameCount === 0) return fail('GIF has no image frames');
  // A zero logical screen is legal; viewers then size the canvas from the frames.
  if (width === 0 || height === 0) {
    width = frameRight;
    height = frameBottom;
  }
  if (width === 0 || height === 0) return fail('corrupted GIF: zero width or height');
  return succeed({ format: 'gif', width, height });
}

function measureColourTableLength(flags: number): number {
  return (flags & 0x80) !== 0 ? 3 * (1 << ((flags & 0x07) + 1)) : 0;
}

// Returns the offset just past the terminating empty sub-block, or undefined when the data ends first.
function skipGifSubBlocks(bytes: Uint8Array, start: number): number | undefined {
  let offset = start;
  while (offset < bytes.length) {
    const size = readUint8(bytes, offset);
    offset += 1;
    if (size === 0) return offset;
    offset += size;
  }
  return undefined;
}
