// Decides from the bytes alone whether a file is an image the Gemini API would accept, and how big it is.
// The checks are structural (magic bytes, chunk/segment/box framing, checksums where the format has them, and
// for PNG the exact inflated size) so truncated or mangled uploads are caught before they cost a batch request.
// Every read is bounds-checked; malformed input yields `ok: false`, never an exception.
import { constants as bufferConstants } from 'node:buffer';
import { crc32, inflateSync } from 'node:zlib';

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'heic' | 'heif';

export type ImageInspection =
  | { ok: true; format: ImageFormat; mimeType: string; width: number; height: number }
  | { ok: false; reason: string };

const MIME_TYPES: Record<ImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;
// Real uploads are far smaller; the cap keeps a forged IHDR from making us inflate gigabytes.
const MAX_PNG_IMAGE_DATA_BYTES = 1024 * 1024 * 1024;

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

function succeed(options: { format: ImageFormat; width: number; height: number }): ImageInspection {
  const { format, width, height } = options;
  return { ok: true, format, mimeType: MIME_TYPES[format], width, height };
}

function fail(reason: string): ImageInspection {
  return { ok: false, reason };
}

// ---------------------------------------------------------------------------------------------------------------
// PNG

interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  interlaced: boolean;
}

const PNG_CHANNELS_BY_COLOUR_TYPE: ReadonlyMap<number, { channels: number; bitDepths: readonly number[] }> = new Map([
  [0, { channels: 1, bitDepths: [1, 2, 4, 8, 16] }],
  [2, { channels: 3, bitDepths: [8, 16] }],
  [3, { channels: 1, bitDepths: [1, 2, 4, 8] }],
  [4, { channels: 2, bitDepths: [8, 16] }],
  [6, { channels: 4, bitDepths: [8, 16] }],
]);

// Adam7 passes as [startX, startY, stepX, stepY].
const ADAM7_PASSES: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function inspectPng(bytes: Uint8Array): ImageInspection {
  if (bytes.length < PNG_SIGNATURE.length) return fail('truncated PNG: incomplete signature');
  if (!hasBytes(bytes, 0, PNG_SIGNATURE)) {
    return fail('corrupted PNG signature (line endings altered by a text-mode transfer?)');
  }

  let header: PngHeader | undefined;
  let hasPalette = false;
  let sawEnd = false;
  let dataState: 'before' | 'inside' | 'after' = 'before';
  const dataParts: Uint8Array[] = [];
  let offset = PNG_SIGNATURE.length;

  while (offset < bytes.length) {
    if (bytes.length - offset < 12) return fail(`truncated PNG: incomplete chunk at byte ${offset}`);
    const length = readUint32BigEndian(bytes, offset);
    const type = readAscii(bytes, offset + 4, 4);
    if (!/^[A-Za-z]{4}$/.test(type)) return fail(`corrupted PNG: invalid chunk type at byte ${offset + 4}`);
    if (length > 0x7fffffff) return fail(`corrupted PNG: chunk ${type} has an invalid length`);
    const dataStart = offset + 8;
    const dataEnd = dataStart + length;
    if (dataEnd + 4 > bytes.length) return fail(`truncated PNG: chunk ${type} runs past the end of the file`);
    if (crc32(bytes.subarray(offset + 4, dataEnd)) >>> 0 !== readUint32BigEndian(bytes, dataEnd)) {
      return fail(`PNG chunk ${type} has a bad CRC`);
    }
    if (header === undefined && type !== 'IHDR') return fail(`corrupted PNG: first chunk is ${type}, not IHDR`);
    if (dataState === 'inside' && type !== 'IDAT') dataState = 'after';

    if (type === 'IHDR') {
      if (header !== undefined) return fail('corrupted PNG: more than one IHDR chunk');
      const parsed = parsePngHeader({ bytes, dataStart, length });
      if (typeof parsed === 'string') return fail(parsed);
      header = parsed;
    } else if (type === 'PLTE') {
      if (length === 0 || length % 3 !== 0 || length > 768) return fail('corrupted PNG: PLTE chunk has an invalid length');
      hasPalette = true;
    } else if (type === 'IDAT') {
      if (dataState === 'after') return fail('corrupted PNG: IDAT chunks are not consecutive');
      dataState = 'inside';
      dataParts.push(bytes.subarray(dataStart, dataEnd));
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    offset = dataEnd + 4;
  }

  if (header === undefined) return fail('truncated PNG: no IHDR chunk');
  if (!sawEnd) return fail('truncated PNG: no IEND chunk');
  if (dataParts.length === 0) return fail('PNG has no image data (no IDAT chunk)');
  if (header.colourType === 3 && !hasPalette) return fail('corrupted PNG: palette image without a PLTE chunk');

  const dataProblem = checkPngImageData({ header, dataParts });
  if (dataProblem !== undefined) return fail(dataProblem);
  return succeed({ format: 'png', width: header.width, height: header.height });
}

function parsePngHeader(options: { bytes: Uint8Array; dataStart: number; length: number }): PngHeader | string {
  const { bytes, dataStart, length } = options;
  if (length !== 13) return `corrupted PNG: IHDR has length ${length}, expected 13`;
  const width = readUint32BigEndian(bytes, dataStart);
  const height = readUint32BigEndian(bytes, dataStart + 4);
  const bitDepth = readUint8(bytes, dataStart + 8);
  const colourType = readUint8(bytes, dataStart + 9);
  const compression = readUint8(bytes, dataStart + 10);
  const filter = readUint8(bytes, dataStart + 11);
  const interlace = readUint8(bytes, dataStart + 12);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    return `corrupted PNG: invalid dimensions ${width}x${height}`;
  }
  const colourRules = PNG_CHANNELS_BY_COLOUR_TYPE.get(colourType);
  if (colourRules === undefined) return `corrupted PNG: invalid colour type ${colourType}`;
  if (!colourRules.bitDepths.includes(bitDepth)) {
    return `corrupted PNG: bit depth ${bitDepth} is not valid for colour type ${colourType}`;
  }
  if (compression !== 0 || filter !== 0) return 'corrupted PNG: unknown compression or filter method';
  if (interlace > 1) return `corrupted PNG: unknown interlace method ${interlace}`;
  return { width, height, bitDepth, colourType, interlaced: interlace === 1 };
}

// Inflates the image data and checks it holds exactly one filter byte plus one row of pixels per scanline.
function checkPngImageData(options: { header: PngHeader; dataParts: readonly Uint8Array[] }): string | undefined {
  const { header, dataParts } = options;
  const rows = listPngRows(header);
  const expectedSize = rows.reduce((total, row) => total + row.count * (1 + row.byteLength), 0);
  if (expectedSize > Math.min(MAX_PNG_IMAGE_DATA_BYTES, bufferConstants.MAX_LENGTH)) {
    return `PNG is too large to verify (${header.width}x${header.height})`;
  }
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.concat(dataParts), { maxOutputLength: expectedSize });
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (code === 'ERR_BUFFER_TOO_LARGE') return 'corrupted PNG: image data is larger than the dimensions allow';
    const message = error instanceof Error ? error.message : String(error);
    return `corrupted PNG image data (${message})`;
  }
  if (inflated.length !== expectedSize) {
    return `corrupted or truncated PNG image data: ${inflated.length} bytes, expected ${expectedSize}`;
  }
  let offset = 0;
  for (const row of rows) {
    for (let index = 0; index < row.count; index++) {
      const filterType = readUint8(inflated, offset);
      if (filterType > 4) return `corrupted PNG image data: invalid row filter type ${filterType}`;
      offset += 1 + row.byteLength;
    }
  }
  return undefined;
}

// Groups of scanlines sharing a byte length: one group when not interlaced, one per non-empty Adam7 pass otherwise.
function listPngRows(header: PngHeader): { count: number; byteLength: number }[] {
  const channels = PNG_CHANNELS_BY_COLOUR_TYPE.get(header.colourType)?.channels ?? 1;
  const bitsPerPixel = channels * header.bitDepth;
  const rowBytes = (pixels: number): number => Math.ceil((pixels * bitsPerPixel) / 8);
  if (!header.interlaced) return [{ count: header.height, byteLength: rowBytes(header.width) }];
  const rows: { count: number; byteLength: number }[] = [];
  for (const [startX, startY, stepX, stepY] of ADAM7_PASSES) {
    const passWidth = header.width > startX ? Math.ceil((header.width - startX) / stepX) : 0;
    const passHeight = header.height > startY ? Math.ceil((header.height - startY) / stepY) : 0;
    if (passWidth > 0 && passHeight > 0) rows.push({ count: passHeight, byteLength: rowBytes(passWidth) });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// JPEG

const JPEG_END_OF_IMAGE = 0xd9;
const JPEG_START_OF_SCAN = 0xda;

function isJpegStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function isJpegStandaloneMarker(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

function inspectJpeg(bytes: Uint8Array): ImageInspection {
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

// ---------------------------------------------------------------------------------------------------------------
// WebP

function inspectRiff(bytes: Uint8Array): ImageInspection {
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

// ---------------------------------------------------------------------------------------------------------------
// GIF

const GIF_TRAILER = 0x3b;
const GIF_EXTENSION = 0x21;
const GIF_IMAGE_DESCRIPTOR = 0x2c;

function inspectGif(bytes: Uint8Array): ImageInspection {
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

// ---------------------------------------------------------------------------------------------------------------
// HEIC / HEIF (ISO base media file format)

const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis']);
const HEIF_BRANDS = new Set(['mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

interface IsoBox {
  type: string;
  contentStart: number;
  end: number;
}

function inspectIsoMedia(bytes: Uint8Array): ImageInspection {
  const ftypSize = readUint32BigEndian(bytes, 0);
  if (ftypSize < 16 || ftypSize > bytes.length) {
    return fail(ftypSize > bytes.length ? 'truncated ISO media file: incomplete ftyp box' : 'corrupted ISO media file: ftyp box is too small');
  }
  const majorBrand = readAscii(bytes, 8, 4);
  const compatibleBrands: string[] = [];
  for (let offset = 16; offset + 4 <= ftypSize; offset += 4) compatibleBrands.push(readAscii(bytes, offset, 4));
  const format = classifyBrands({ majorBrand, compatibleBrands });
  if (typeof format !== 'object') return fail(format);

  const topLevel = readIsoBoxes({ bytes, start: 0, end: bytes.length, parent: 'file' });
  if (typeof topLevel === 'string') return fail(topLevel);
  const meta = topLevel.find((box) => box.type === 'meta');
  if (meta === undefined) return fail(`${format.label}: no meta box (not a still image, or truncated)`);
  // meta is a FullBox: four bytes of version and flags come before its children.
  if (meta.end - meta.contentStart < 4) return fail(`corrupted ${format.label}: meta box is too short`);
  const metaChildren = readIsoBoxes({ bytes, start: meta.contentStart + 4, end: meta.end, parent: 'meta' });
  if (typeof metaChildren === 'string') return fail(metaChildren);

  const iprp = metaChildren.find((box) => box.type === 'iprp');
  const iprpChildren = iprp === undefined ? [] : readIsoBoxes({ bytes, start: iprp.contentStart, end: iprp.end, parent: 'iprp' });
  if (typeof iprpChildren === 'string') return fail(iprpChildren);
  const ipco = iprpChildren.find((box) => box.type === 'ipco');
  const properties = ipco === undefined ? [] : readIsoBoxes({ bytes, start: ipco.contentStart, end: ipco.end, parent: 'ipco' });
  if (typeof properties === 'string') return fail(properties);

  const locationProblem = checkItemLocations({ bytes, metaChildren, label: format.label });
  if (locationProblem !== undefined) return fail(locationProblem);

  const dimensions = findPrimaryImageDimensions({ bytes, metaChildren, iprpChildren, properties });
  return succeed({ format: format.format, width: dimensions.width, height: dimensions.height });
}

function classifyBrands(options: {
  majorBrand: string;
  compatibleBrands: readonly string[];
}): { format: 'heic' | 'heif'; label: string } | string {
  const { majorBrand, compatibleBrands } = options;
  const heic = { format: 'heic', label: 'HEIC' } as const;
  const heif = { format: 'heif', label: 'HEIF' } as const;
  const avifReason = 'unsupported image format: AVIF';
  if (HEIC_BRANDS.has(majorBrand)) return heic;
  if (AVIF_BRANDS.has(majorBrand)) return avifReason;
  const hasCompatible = (brands: ReadonlySet<string>): boolean => compatibleBrands.some((brand) => brands.has(brand));
  if (hasCompatible(HEIC_BRANDS)) return heic;
  if (hasCompatible(AVIF_BRANDS)) return avifReason;
  if (HEIF_BRANDS.has(majorBrand) || hasCompatible(HEIF_BRANDS)) return heif;
  return `not an image (looks like an MP4/QuickTime media file, brand ${describeFourCc(majorBrand)})`;
}

function readIsoBoxes(options: { bytes: Uint8Array; start: number; end: number; parent: string }): IsoBox[] | string {
  const { bytes, start, end, parent } = options;
  const boxes: IsoBox[] = [];
  let offset = start;
  while (offset < end) {
    if (end - offset < 8) return `truncated HEIF: incomplete box header in ${parent} at byte ${offset}`;
    const type = readAscii(bytes, offset + 4, 4);
    let size = readUint32BigEndian(bytes, offset);
    let headerSize = 8;
    if (size === 1) {
      if (end - offset < 16) return `truncated HEIF: incomplete box header in ${parent} at byte ${offset}`;
      size = readUint32BigEndian(bytes, offset + 8) * 2 ** 32 + readUint32BigEndian(bytes, offset + 12);
      headerSize = 16;
    } else if (size === 0) {
      size = end - offset;
    }
    if (size < headerSize) return `corrupted HEIF: box ${describeFourCc(type)} has an invalid size`;
    if (offset + size > end) return `truncated HEIF: box ${describeFourCc(type)} runs past the end of ${parent}`;
    boxes.push({ type, contentStart: offset + headerSize, end: offset + size });
    offset += size;
  }
  return boxes;
}

// Item data lives outside the boxes (usually in mdat), so a file cut at a box boundary is only caught here.
function checkItemLocations(options: { bytes: Uint8Array; metaChildren: readonly IsoBox[]; label: string }): string | undefined {
  const { bytes, metaChildren, label } = options;
  const iloc = metaChildren.find((box) => box.type === 'iloc');
  if (iloc === undefined) return undefined;
  const idat = metaChildren.find((box) => box.type === 'idat');
  const malformed = `corrupted ${label}: malformed item location (iloc) box`;
  const end = iloc.end;
  let offset = iloc.contentStart;
  if (offset + 6 > end) return malformed;
  const version = readUint8(bytes, offset);
  if (version > 2) return malformed;
  const offsetSize = readUint8(bytes, offset + 4) >> 4;
  const lengthSize = readUint8(bytes, offset + 4) & 0x0f;
  const baseOffsetSize = readUint8(bytes, offset + 5) >> 4;
  const indexSize = version === 0 ? 0 : readUint8(bytes, offset + 5) & 0x0f;
  if (![offsetSize, lengthSize, baseOffsetSize, indexSize].every((size) => size === 0 || size === 4 || size === 8)) return malformed;
  offset += 6;
  const idSize = version < 2 ? 2 : 4;
  if (offset + idSize > end) return malformed;
  const itemCount = readSizedUint(bytes, offset, idSize);
  offset += idSize;

  for (let item = 0; item < itemCount; item++) {
    if (offset + idSize > end) return malformed;
    const itemId = readSizedUint(bytes, offset, idSize);
    offset += idSize;
    let constructionMethod = 0;
    if (version >= 1) {
      if (offset + 2 > end) return malformed;
      constructionMethod = readUint16BigEndian(bytes, offset) & 0x0f;
      offset += 2;
    }
    if (offset + 2 + baseOffsetSize + 2 > end) return malformed;
    const dataReferenceIndex = readUint16BigEndian(bytes, offset);
    const baseOffset = readSizedUint(bytes, offset + 2, baseOffsetSize);
    const extentCount = readUint16BigEndian(bytes, offset + 2 + baseOffsetSize);
    offset += 2 + baseOffsetSize + 2;
    for (let extent = 0; extent < extentCount; extent++) {
      if (offset + indexSize + offsetSize + lengthSize > end) return malformed;
      const extentOffset = readSizedUint(bytes, offset + indexSize, offsetSize);
      const extentLength = readSizedUint(bytes, offset + indexSize + offsetSize, lengthSize);
      offset += indexSize + offsetSize + lengthSize;
      // Data in other files (data references) or built from other items cannot be checked from here.
      if (dataReferenceIndex !== 0 || constructionMethod === 2) continue;
      const start = baseOffset + extentOffset;
      if (constructionMethod === 0) {
        if (start + extentLength > bytes.length) return `truncated ${label}: data of item ${itemId} runs past the end of the file`;
      } else if (constructionMethod === 1) {
        const idatSize = idat === undefined ? 0 : idat.end - idat.contentStart;
        if (start + extentLength > idatSize) return `corrupted ${label}: data of item ${itemId} runs past its idat box`;
      } else {
        return malformed;
      }
    }
  }
  return undefined;
}

// Prefers the primary item's own ispe (HEIC photos are usually grids of small tiles, each with its own ispe);
// falls back to the largest ispe, which is the full image when the association boxes are missing or unusual.
function findPrimaryImageDimensions(options: {
  bytes: Uint8Array;
  metaChildren: readonly IsoBox[];
  iprpChildren: readonly IsoBox[];
  properties: readonly IsoBox[];
}): { width: number; height: number } {
  const { bytes, metaChildren, iprpChildren, properties } = options;
  const readSpatialExtent = (box: IsoBox | undefined): { width: number; height: number } | undefined => {
    if (box === undefined || box.type !== 'ispe' || box.end - box.contentStart < 12) return undefined;
    return { width: readUint32BigEndian(bytes, box.contentStart + 4), height: readUint32BigEndian(bytes, box.contentStart + 8) };
  };

  const primaryItemId = readPrimaryItemId({ bytes, metaChildren });
  const ipma = iprpChildren.find((box) => box.type === 'ipma');
  if (primaryItemId !== undefined && ipma !== undefined) {
    for (const propertyIndex of readItemPropertyIndexes({ bytes, ipma, itemId: primaryItemId })) {
      const extent = readSpatialExtent(properties[propertyIndex - 1]);
      if (extent !== undefined) return extent;
    }
  }
  let largest = { width: 0, height: 0 };
  for (const property of properties) {
    const extent = readSpatialExtent(property);
    if (extent !== undefined && extent.width * extent.height > largest.width * largest.height) largest = extent;
  }
  return largest;
}

function readPrimaryItemId(options: { bytes: Uint8Array; metaChildren: readonly IsoBox[] }): number | undefined {
  const { bytes, metaChildren } = options;
  const pitm = metaChildren.find((box) => box.type === 'pitm');
  if (pitm === undefined) return undefined;
  const idSize = readUint8(bytes, pitm.contentStart) === 0 ? 2 : 4;
  if (pitm.contentStart + 4 + idSize > pitm.end) return undefined;
  return readSizedUint(bytes, pitm.contentStart + 4, idSize);
}

// Returns the 1-based ipco indexes associated with one item; stops quietly at malformed data.
function readItemPropertyIndexes(options: { bytes: Uint8Array; ipma: IsoBox; itemId: number }): number[] {
  const { bytes, ipma, itemId } = options;
  const end = ipma.end;
  let offset = ipma.contentStart;
  if (offset + 8 > end) return [];
  const version = readUint8(bytes, offset);
  const wideIndexes = (readUint8(bytes, offset + 3) & 1) === 1;
  const entryCount = readUint32BigEndian(bytes, offset + 4);
  offset += 8;
  const idSize = version < 1 ? 2 : 4;
  const associationSize = wideIndexes ? 2 : 1;
  for (let entry = 0; entry < entryCount; entry++) {
    if (offset + idSize + 1 > end) return [];
    const entryItemId = readSizedUint(bytes, offset, idSize);
    const associationCount = readUint8(bytes, offset + idSize);
    offset += idSize + 1;
    if (offset + associationCount * associationSize > end) return [];
    if (entryItemId === itemId) {
      const indexes: number[] = [];
      for (let association = 0; association < associationCount; association++) {
        const value = readSizedUint(bytes, offset + association * associationSize, associationSize);
        // The top bit marks the property as essential; the rest is the index.
        indexes.push(wideIndexes ? value & 0x7fff : value & 0x7f);
      }
      return indexes;
    }
    offset += associationCount * associationSize;
  }
  return [];
}

// ---------------------------------------------------------------------------------------------------------------
// Everything else

function describeNonImage(bytes: Uint8Array): string {
  const start = readAscii(bytes, 0, 8);
  if (start.startsWith('%PDF')) return 'not an image (looks like a PDF document)';
  if (start.startsWith('PK\x03\x04') || start.startsWith('PK\x05\x06')) return 'not an image (looks like a ZIP archive)';
  if (hasBytes(bytes, 0, [0x1f, 0x8b])) return 'not an image (looks like a gzip archive)';
  if (start.startsWith('BM')) return 'unsupported image format: BMP';
  if (start.startsWith('II*\x00') || start.startsWith('MM\x00*')) return 'unsupported image format: TIFF';

  let textStart = hasBytes(bytes, 0, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (textStart < bytes.length && [0x09, 0x0a, 0x0d, 0x20].includes(readUint8(bytes, textStart))) textStart++;
  const firstCharacter = readAscii(bytes, textStart, 1);
  if (firstCharacter === '<') {
    const head = readAscii(bytes, textStart, 1024).toLowerCase();
    if (head.includes('<svg')) return 'unsupported image format: SVG (vector graphics)';
    return 'not an image (looks like text/HTML)';
  }
  if (firstCharacter === '{' || firstCharacter === '[') return 'not an image (looks like JSON text)';
  const head = bytes.subarray(textStart, textStart + 512);
  const isPlainText = head.length > 0 && head.every((byte) => byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte < 0x7f));
  if (isPlainText) return 'not an image (looks like plain text)';

  const firstBytes = [...bytes.subarray(0, 8)].map(formatHex).join(' ');
  return `unknown format (first bytes: ${firstBytes})`;
}

// ---------------------------------------------------------------------------------------------------------------
// Bounded readers: callers check lengths first; out-of-range bytes read as 0 rather than throwing.

function readUint8(bytes: Uint8Array, offset: number): number {
  return bytes[offset] ?? 0;
}

function readUint16BigEndian(bytes: Uint8Array, offset: number): number {
  return (readUint8(bytes, offset) << 8) | readUint8(bytes, offset + 1);
}

function readUint32BigEndian(bytes: Uint8Array, offset: number): number {
  return readUint8(bytes, offset) * 0x1000000 + ((readUint8(bytes, offset + 1) << 16) | readUint16BigEndian(bytes, offset + 2));
}

function readUint16LittleEndian(bytes: Uint8Array, offset: number): number {
  return readUint8(bytes, offset) | (readUint8(bytes, offset + 1) << 8);
}

function readUint24LittleEndian(bytes: Uint8Array, offset: number): number {
  return readUint16LittleEndian(bytes, offset) | (readUint8(bytes, offset + 2) << 16);
}

function readUint32LittleEndian(bytes: Uint8Array, offset: number): number {
  return readUint24LittleEndian(bytes, offset) + readUint8(bytes, offset + 3) * 0x1000000;
}

function readSizedUint(bytes: Uint8Array, offset: number, size: number): number {
  if (size === 1) return readUint8(bytes, offset);
  if (size === 2) return readUint16BigEndian(bytes, offset);
  if (size === 4) return readUint32BigEndian(bytes, offset);
  if (size === 8) return readUint32BigEndian(bytes, offset) * 2 ** 32 + readUint32BigEndian(bytes, offset + 4);
  return 0;
}

function readAscii(bytes: Uint8Array, offset: number, length: number): string {
  const end = Math.min(bytes.length, offset + length);
  let text = '';
  for (let index = Math.max(0, offset); index < end; index++) text += String.fromCharCode(readUint8(bytes, index));
  return text;
}

function hasBytes(bytes: Uint8Array, offset: number, expected: readonly number[]): boolean {
  if (offset + expected.length > bytes.length) return false;
  return expected.every((value, index) => readUint8(bytes, offset + index) === value);
}

function formatHex(value: number): string {
  return value.toString(16).padStart(2, '0');
}

function describeFourCc(value: string): string {
  return JSON.stringify(value);
}
