// PNG: signature, chunk framing and CRCs, the IHDR, and the exact inflated size of the image data.
import { constants as bufferConstants } from 'node:buffer';
import { crc32, inflateSync } from 'node:zlib';
import { fail, succeed, type ImageInspection } from './image-inspection.ts';
import { hasBytes, readAscii, readUint32BigEndian, readUint8 } from './read-image-bytes.ts';

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;
// Real uploads are far smaller; the cap keeps a forged IHDR from making us inflate gigabytes.
const MAX_PNG_IMAGE_DATA_BYTES = 1024 * 1024 * 1024;

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

export function inspectPng(bytes: Uint8Array): ImageInspection {
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
