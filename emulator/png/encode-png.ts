// Synthesises placeholder "character card" PNGs for the local Gemini emulator (the card itself: character-card.ts).
//
// The picture is built only from horizontal runs of flat colour (a vertical gradient plus flat shapes), so each
// row is written directly in PNG "Sub" filtered form: a run start stores the colour difference to its left
// neighbour and every other byte stays zero. That needs no per-pixel work, keeps a single raw copy of the image
// in memory, and leaves deflate long runs of zeros, which is what makes 4K output cheap.
import { crc32, deflateSync, constants as zlibConstants } from 'node:zlib';
import { constants as bufferConstants } from 'node:buffer';

import type { Rgb } from './colour.ts';
import { collectRowSpans, deriveCardDesign, layoutCard, snapSpansToBlocks, type CardProvenance, type PngVariant, type Span } from './character-card.ts';

export type { CardProvenance, PngVariant } from './character-card.ts';

/** The text an answer's image carries of what it was made from (a PNG tEXt `Comment`, a JPEG COM segment). */
export function formatProvenance(provenance: CardProvenance): string {
  return `chargen-emulator references=${provenance.references.join(',')}${provenance.seed !== undefined ? ` seed=${provenance.seed}` : ''}`;
}

export interface EncodePngOptions {
  width: number;
  height: number;
  seed: string;
  variant?: PngVariant;
  /** Drawn along the card's bottom and written in a tEXt chunk. */
  provenance?: CardProvenance;
}

export interface PngDimensions {
  width: number;
  height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const BYTES_PER_PIXEL = 3;
const FILTER_SUB = 1;
const MAX_PNG_DIMENSION = 0x7fffffff;
// Keeps the PNG readable by decoders that buffer a whole chunk; the value itself is arbitrary.
const MAX_IDAT_DATA_LENGTH = 1 << 20;
// Level 1 with the RLE strategy: the filtered rows are almost all zero runs, so distance-1 matching finds
// everything worth finding and is the fastest zlib mode.
const DEFLATE_OPTIONS = { level: 1, strategy: zlibConstants.Z_RLE } as const;

export function encodePng(options: EncodePngOptions): Buffer {
  const { width, height, seed } = options;
  const variant = options.variant ?? 'final';
  assertDimension({ name: 'width', value: width });
  assertDimension({ name: 'height', value: height });
  const rowLength = 1 + width * BYTES_PER_PIXEL;
  const rawLength = rowLength * height;
  if (rawLength > bufferConstants.MAX_LENGTH) {
    throw new RangeError(`encodePng: ${width}x${height} is too large to encode in memory`);
  }

  const design = deriveCardDesign({ seed, variant, ...(options.provenance ? { provenance: options.provenance } : {}) });
  const blockSize = variant === 'draft' ? Math.max(2, Math.round(Math.min(width, height) / 48)) : 1;
  const layout = layoutCard({ width, height, design, blockSize });

  const raw = Buffer.alloc(rawLength);
  for (let y = 0; y < height; y++) {
    // Draft rows repeat the sample of their block's centre row, which gives the blocky look.
    const sampleY = blockSize > 1 ? Math.min(height - 0.5, Math.floor(y / blockSize) * blockSize + blockSize / 2) : y + 0.5;
    const spans = collectRowSpans({ layout, y: sampleY });
    const snappedSpans = blockSize > 1 ? snapSpansToBlocks({ spans, blockSize, width }) : spans;
    writeSubFilteredRow({ raw, rowOffset: y * rowLength, width, spans: snappedSpans });
  }

  const compressed = deflateSync(raw, DEFLATE_OPTIONS);
  const chunks: Buffer[] = [PNG_SIGNATURE, createChunk({ type: 'IHDR', data: createHeaderData({ width, height }) })];
  if (options.provenance) chunks.push(createChunk({ type: 'tEXt', data: Buffer.from(`Comment\0${formatProvenance(options.provenance)}`, 'latin1') }));
  for (let offset = 0; offset < compressed.length; offset += MAX_IDAT_DATA_LENGTH) {
    chunks.push(createChunk({ type: 'IDAT', data: compressed.subarray(offset, offset + MAX_IDAT_DATA_LENGTH) }));
  }
  chunks.push(createChunk({ type: 'IEND', data: Buffer.alloc(0) }));
  return Buffer.concat(chunks);
}

export function readPngDimensions(bytes: Uint8Array): PngDimensions | undefined {
  if (bytes.length < 24) return undefined;
  for (let index = 0; index < PNG_SIGNATURE.length; index++) {
    if (bytes[index] !== PNG_SIGNATURE[index]) return undefined;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunkLength = view.getUint32(8);
  const chunkType = String.fromCharCode(...bytes.subarray(12, 16));
  if (chunkLength !== 13 || chunkType !== 'IHDR') return undefined;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width === 0 || height === 0) return undefined;
  return { width, height };
}

function assertDimension(options: { name: string; value: number }): void {
  const { name, value } = options;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PNG_DIMENSION) {
    throw new RangeError(`encodePng: ${name} must be an integer from 1 to ${MAX_PNG_DIMENSION}, got ${value}`);
  }
}

function createHeaderData(options: { width: number; height: number }): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(options.width, 0);
  data.writeUInt32BE(options.height, 4);
  data[8] = 8; // bit depth
  data[9] = 2; // colour type: truecolour RGB
  data[10] = 0; // compression: deflate
  data[11] = 0; // filter method: adaptive
  data[12] = 0; // interlace: none
  return data;
}

function createChunk(options: { type: string; data: Uint8Array }): Buffer {
  const { type, data } = options;
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  chunk.set(data, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

// Resolves overlapping runs (topmost wins) and writes only the bytes that differ from the left neighbour.
function writeSubFilteredRow(options: { raw: Buffer; rowOffset: number; width: number; spans: readonly Span[] }): void {
  const { raw, rowOffset, width, spans } = options;
  raw[rowOffset] = FILTER_SUB;
  const boundarySet = new Set<number>([0]);
  for (const span of spans) {
    boundarySet.add(span.start);
    boundarySet.add(span.end);
  }
  const boundaries = [...boundarySet].filter((boundary) => boundary < width).sort((left, right) => left - right);
  let previous: Rgb = [0, 0, 0];
  for (const boundary of boundaries) {
    const colour = findTopColour({ spans, x: boundary }) ?? previous;
    if (colour === previous) continue;
    const pixelOffset = rowOffset + 1 + boundary * BYTES_PER_PIXEL;
    raw[pixelOffset] = (colour[0] - previous[0]) & 0xff;
    raw[pixelOffset + 1] = (colour[1] - previous[1]) & 0xff;
    raw[pixelOffset + 2] = (colour[2] - previous[2]) & 0xff;
    previous = colour;
  }
}

function findTopColour(options: { spans: readonly Span[]; x: number }): Rgb | undefined {
  const { spans, x } = options;
  for (let index = spans.length - 1; index >= 0; index--) {
    const span = spans[index];
    if (span !== undefined && span.start <= x && x < span.end) return span.colour;
  }
  return undefined;
}
