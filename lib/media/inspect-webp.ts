// WebP: the RIFF framing, its chunks, and the size from the first one (VP8, VP8L or VP8X).
import { fail, succeed, type ImageInspection } from './image-inspection.ts';
import { describeFourCc, hasBytes, readAscii, readUint16LittleEndian, readUint24LittleEndian, readUint32LittleEndian, readUint8 } from './read-image-bytes.ts';

export function inspectRiff(bytes: Uint8Array): ImageInspection {
  if (bytes.length < 12) return fail('truncated RIFF/WebP file: incomplete header');
  const riffType = readAscii(bytes, 8, 4);
  if (riffType !== 'WEBP') return fail(`not an image (looks like a RIFF ${describeFourCc(riffType)} file, not WebP)`);
  const riffSize = readUint32LittleEndian(bytes, 4);
  if (riffSize < 4) return fail('corrupted WebP: RIFF size is too small');
  const riffEnd = 8 + riffSize;
  if (riffEnd > bytes.length) {
    return fail(`truncated WebP: RIFF header says ${riffEnd} bytes but the file has ${bytes.length}`);
  }

  const chunks: { type: string; dataStart: number; size: number }[] = [];
  let offset = 12;
  while (offset < riffEnd) {
    if (offset + 8 > riffEnd) return fail(`corrupted WebP: incomplete chunk header at byte ${offset}`);
    const type = readAscii(bytes, offset, 4);
    const size = readUint32LittleEndian(bytes, offset + 4);
    const dataStart = offset + 8;
    if (dataStart + size > riffEnd) return fail(`truncated WebP: chunk ${describeFourCc(type)} runs past the end of the data`);
    chunks.push({ type, dataStart, size });
    // Chunks are padded to even sizes; a missing final pad byte is tolerated because the loop simply ends.
    offset = dataStart + size + (size & 1);
  }

  const first = chunks[0];
  if (first === undefined) return fail('WebP has no image data (no chunks)');
  const dimensions = readWebpChunkDimensions({ bytes, chunk: first });
  if (typeof dimensions === 'string') return fail(dimensions);
  if (first.type === 'VP8X' && !chunks.some((chunk) => chunk.type === 'VP8 ' || chunk.type === 'VP8L' || chunk.type === 'ANMF')) {
    return fail('WebP has no image data (extended header without a VP8, VP8L or ANMF chunk)');
  }
  if (dimensions.width === 0 || dimensions.height === 0) return fail('corrupted WebP: zero width or height');
  return succeed({ format: 'webp', width: dimensions.width, height: dimensions.height });
}

function readWebpChunkDimensions(options: {
  bytes: Uint8Array;
  chunk: { type: string; dataStart: number; size: number };
}): { width: number; height: number } | string {
  const { bytes, chunk } = options;
  const start = chunk.dataStart;
  if (chunk.type === 'VP8 ') {
    if (chunk.size < 10) return 'corrupted WebP: VP8 chunk is too short';
    const frameTag = readUint8(bytes, start) | (readUint8(bytes, start + 1) << 8) | (readUint8(bytes, start + 2) << 16);
    if ((frameTag & 1) !== 0) return 'corrupted WebP: VP8 data does not start with a key frame';
    if (!hasBytes(bytes, start + 3, [0x9d, 0x01, 0x2a])) return 'corrupted WebP: VP8 start code missing';
    const firstPartitionSize = frameTag >>> 5;
    if (10 + firstPartitionSize > chunk.size) return 'truncated WebP: VP8 first partition runs past the chunk';
    return {
      width: readUint16LittleEndian(bytes, start + 6) & 0x3fff,
      height: readUint16LittleEndian(bytes, start + 8) & 0x3fff,
    };
  }
  if (chunk.type === 'VP8L') {
    if (chunk.size < 5) return 'corrupted WebP: VP8L chunk is too short';
    if (readUint8(bytes, start) !== 0x2f) return 'corrupted WebP: VP8L signature missing';
    const bits = readUint32LittleEndian(bytes, start + 1);
    if (bits >>> 29 !== 0) return 'corrupted WebP: unknown VP8L version';
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk.type === 'VP8X') {
    if (chunk.size < 10) return 'corrupted WebP: VP8X chunk is too short';
    return { width: readUint24LittleEndian(bytes, start + 4) + 1, height: readUint24LittleEndian(bytes, start + 7) + 1 };
  }
  return `WebP has no image data (first chunk is ${describeFourCc(chunk.type)})`;
}
