// JPEG: the segments up to the first scan, the frame header (SOF) for the size, then the scan data to its end (EOI).
import { fail, succeed, type ImageInspection } from './image-inspection.ts';
import { formatHex, readUint16BigEndian, readUint8 } from './read-image-bytes.ts';

const JPEG_END_OF_IMAGE = 0xd9;
const JPEG_START_OF_SCAN = 0xda;

export function isJpegStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function isJpegStandaloneMarker(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

export function inspectJpeg(bytes: Uint8Array): ImageInspection {
  let frame: { width: number; height: number } | undefined;
  let offset = 2;
  for (;;) {
    if (offset >= bytes.length) return fail('truncated JPEG: ends before the image data');
    if (readUint8(bytes, offset) !== 0xff) return fail(`corrupted JPEG: expected a marker at byte ${offset}`);
    // Any number of 0xFF fill bytes may precede a marker.
    while (offset < bytes.length && readUint8(bytes, offset) === 0xff) offset++;
    if (offset >= bytes.length) return fail('truncated JPEG: ends before the image data');
    const marker = readUint8(bytes, offset);
    const markerOffset = offset - 1;
    offset++;

    if (marker === JPEG_END_OF_IMAGE) return fail('corrupted JPEG: end of image before any image data');
    if (isJpegStandaloneMarker(marker)) continue;
    if (marker < 0xc0) return fail(`corrupted JPEG: invalid marker FF${formatHex(marker)} at byte ${markerOffset}`);
    if (offset + 2 > bytes.length) return fail('truncated JPEG: ends inside a segment header');
    const segmentLength = readUint16BigEndian(bytes, offset);
    if (segmentLength < 2) return fail(`corrupted JPEG: segment FF${formatHex(marker)} has an invalid length`);
    const segmentEnd = offset + segmentLength;
    if (segmentEnd > bytes.length) return fail(`truncated JPEG: segment FF${formatHex(marker)} runs past the end of the file`);

    if (isJpegStartOfFrame(marker) && frame === undefined) {
      if (segmentLength < 8) return fail('corrupted JPEG: frame header is too short');
      const height = readUint16BigEndian(bytes, offset + 3);
      const width = readUint16BigEndian(bytes, offset + 5);
      const componentCount = readUint8(bytes, offset + 7);
      if (componentCount === 0 || segmentLength !== 8 + 3 * componentCount) {
        return fail('corrupted JPEG: frame header has an inconsistent component count');
      }
      if (width === 0 || height === 0) return fail(`corrupted JPEG: invalid dimensions ${width}x${height}`);
      frame = { width, height };
    }
    if (marker === JPEG_START_OF_SCAN) {
      if (frame === undefined) return fail('corrupted JPEG: scan data before any frame header (SOF)');
      return findJpegEnd({ bytes, offset: segmentEnd, frame });
    }
    offset = segmentEnd;
  }
}

// Walks entropy-coded data to the first EOI. Inside scan data 0xFF is always followed by a stuffed 0x00, a
// restart marker or a real marker, so a byte pair FF D9 found this way is the genuine end of the image; bytes after
// it (padding, appended metadata) do not stop decoders. Segments between progressive scans are skipped by length.
function findJpegEnd(options: { bytes: Uint8Array; offset: number; frame: { width: number; height: number } }): ImageInspection {
  const { bytes, frame } = options;
  const truncated = fail('truncated JPEG: no end-of-image (EOI) marker');
  let offset = options.offset;
  while (offset < bytes.length) {
    const markerStart = bytes.indexOf(0xff, offset);
    if (markerStart === -1) return truncated;
    let next = markerStart + 1;
    while (next < bytes.length && readUint8(bytes, next) === 0xff) next++;
    if (next >= bytes.length) return truncated;
    const marker = readUint8(bytes, next);
    if (marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      offset = next + 1;
      continue;
    }
    if (marker === JPEG_END_OF_IMAGE) return succeed({ format: 'jpeg', width: frame.width, height: frame.height });
    if (marker < 0xc0 || marker === 0xd8) {
      return fail(`corrupted JPEG: invalid marker FF${formatHex(marker)} in image data at byte ${markerStart}`);
    }
    if (next + 3 > bytes.length) return truncated;
    const segmentLength = readUint16BigEndian(bytes, next + 1);
    if (segmentLength < 2) return fail(`corrupted JPEG: segment FF${formatHex(marker)} has an invalid length`);
    const segmentEnd = next + 1 + segmentLength;
    if (segmentEnd > bytes.length) return truncated;
    offset = segmentEnd;
  }
  return truncated;
}
