// Synthesises placeholder "character card" PNGs for the local Gemini emulator.
//
// The picture is built only from horizontal runs of flat colour (a vertical gradient plus flat shapes), so each
// row is written directly in PNG "Sub" filtered form: a run start stores the colour difference to its left
// neighbour and every other byte stays zero. That needs no per-pixel work, keeps a single raw copy of the image
// in memory, and leaves deflate long runs of zeros, which is what makes 4K output cheap.
import { createHash } from 'node:crypto';
import { crc32, deflateSync, constants as zlibConstants } from 'node:zlib';
import { constants as bufferConstants } from 'node:buffer';

export type PngVariant = 'final' | 'draft';

export interface EncodePngOptions {
  width: number;
  height: number;
  seed: string;
  variant?: PngVariant;
}

export interface PngDimensions {
  width: number;
  height: number;
}

type Rgb = readonly [red: number, green: number, blue: number];

interface Span {
  start: number;
  end: number;
  colour: Rgb;
}

type Headwear = 'none' | 'top-hat' | 'pointed-hat';

interface CardDesign {
  backgroundTop: Rgb;
  backgroundBottom: Rgb;
  shadowColour: Rgb;
  frameColour: Rgb;
  bodyColour: Rgb;
  beltColour: Rgb | undefined;
  headColour: Rgb;
  eyeColour: Rgb;
  hatColour: Rgb;
  headwear: Headwear;
  headRadiusRatio: number;
  shoulderRatio: number;
  hemRatio: number;
  horizontalOffsetRatio: number;
}

interface CardLayout {
  width: number;
  height: number;
  design: CardDesign;
  centreX: number;
  baseY: number;
  frameInset: number;
  frameThickness: number;
  headRadius: number;
  headCentreY: number;
  bodyTop: number;
  shoulderHalfWidth: number;
  hemHalfWidth: number;
  shoulderRounding: number;
  beltTop: number;
  beltBottom: number;
  shadowRadiusX: number;
  shadowRadiusY: number;
  eyeRadius: number;
  eyeOffsetX: number;
  eyeCentreY: number;
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

  const design = deriveCardDesign({ seed, variant });
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

function deriveCardDesign(options: { seed: string; variant: PngVariant }): CardDesign {
  const digest = createHash('sha256').update(options.seed, 'utf8').digest();
  const readUnit = (index: number): number => ((digest[index] ?? 0) * 256 + (digest[index + 1] ?? 0)) / 65536;
  const adjust = options.variant === 'draft' ? makeDraftColour : (colour: Rgb): Rgb => colour;

  const baseHue = readUnit(0) * 360;
  const backgroundTop = convertHslToRgb({ hue: baseHue, saturation: 0.35 + 0.35 * readUnit(2), lightness: 0.74 + 0.14 * readUnit(4) });
  const backgroundBottom = convertHslToRgb({
    hue: baseHue + (readUnit(6) < 0.5 ? -1 : 1) * (30 + 60 * readUnit(8)),
    saturation: 0.4 + 0.35 * readUnit(10),
    lightness: 0.22 + 0.18 * readUnit(12),
  });
  const bodyColour = convertHslToRgb({ hue: baseHue + 140 + 80 * readUnit(14), saturation: 0.5 + 0.4 * readUnit(16), lightness: 0.38 + 0.2 * readUnit(18) });
  const accentColour = convertHslToRgb({ hue: baseHue + 60 + 240 * readUnit(20), saturation: 0.75, lightness: 0.58 });
  // Mostly plausible skin tones, with an occasional fantasy hue so the heads vary too.
  const headHue = readUnit(22) < 0.8 ? 18 + 22 * readUnit(24) : 360 * readUnit(24);
  const headColour = convertHslToRgb({ hue: headHue, saturation: 0.35 + 0.3 * readUnit(26), lightness: 0.4 + 0.42 * readUnit(28) });
  const headwearIndex = (digest[30] ?? 0) % 3;
  const headwear: Headwear = headwearIndex === 0 ? 'none' : headwearIndex === 1 ? 'top-hat' : 'pointed-hat';

  return {
    backgroundTop: adjust(backgroundTop),
    backgroundBottom: adjust(backgroundBottom),
    shadowColour: adjust(scaleColour({ colour: backgroundBottom, factor: 0.6 })),
    frameColour: adjust(mixColours({ from: accentColour, to: [255, 255, 255], amount: 0.35 })),
    bodyColour: adjust(bodyColour),
    beltColour: ((digest[31] ?? 0) & 1) === 1 ? adjust(accentColour) : undefined,
    headColour: adjust(headColour),
    eyeColour: adjust(convertHslToRgb({ hue: baseHue, saturation: 0.3, lightness: 0.12 })),
    hatColour: adjust(scaleColour({ colour: bodyColour, factor: 0.55 })),
    headwear,
    headRadiusRatio: 0.1 + 0.04 * readUnit(3),
    shoulderRatio: 0.12 + 0.08 * readUnit(7),
    hemRatio: 0.17 + 0.13 * readUnit(11),
    horizontalOffsetRatio: (readUnit(15) - 0.5) * 0.08,
  };
}

function layoutCard(options: { width: number; height: number; design: CardDesign; blockSize: number }): CardLayout {
  const { width, height, design, blockSize } = options;
  const shortSide = Math.min(width, height);
  const frameInset = Math.round(shortSide * 0.03);
  // At least one draft block thick, otherwise block sampling can skip the frame's edges entirely.
  const frameThickness = Math.max(1, Math.round(shortSide * 0.012), blockSize);
  // The figure is sized by height, but narrow portrait images must still fit its widest part (hem and shadow).
  const figureHeight = Math.min(height * 0.6, (width * 0.8) / (2.6 * design.hemRatio));
  const baseY = height * 0.87;
  const headRadius = figureHeight * design.headRadiusRatio;
  const headCentreY = baseY - figureHeight + headRadius;
  const bodyTop = headCentreY + headRadius * 0.85;
  const shoulderHalfWidth = figureHeight * design.shoulderRatio;
  const hemHalfWidth = figureHeight * design.hemRatio;
  const bodyHeight = baseY - bodyTop;
  return {
    width,
    height,
    design,
    centreX: width * (0.5 + design.horizontalOffsetRatio),
    baseY,
    frameInset,
    frameThickness,
    headRadius,
    headCentreY,
    bodyTop,
    shoulderHalfWidth,
    hemHalfWidth,
    shoulderRounding: Math.min(shoulderHalfWidth * 0.6, bodyHeight * 0.3),
    beltTop: bodyTop + bodyHeight * 0.42,
    beltBottom: bodyTop + bodyHeight * 0.5,
    shadowRadiusX: hemHalfWidth * 1.3,
    shadowRadiusY: Math.max(1, figureHeight * 0.035),
    eyeRadius: Math.max(0.75, headRadius * 0.11),
    eyeOffsetX: headRadius * 0.38,
    eyeCentreY: headCentreY - headRadius * 0.05,
  };
}

// Returns the row's runs in painting order (later runs cover earlier ones); `y` is the sample row centre.
function collectRowSpans(options: { layout: CardLayout; y: number }): Span[] {
  const { layout, y } = options;
  const { design, width, height, centreX } = layout;
  const spans: Span[] = [];
  const addSpan = (start: number, end: number, colour: Rgb): void => {
    const clampedStart = Math.max(0, Math.min(width, Math.round(start)));
    const clampedEnd = Math.max(0, Math.min(width, Math.round(end)));
    if (clampedEnd > clampedStart) spans.push({ start: clampedStart, end: clampedEnd, colour });
  };
  const addCircle = (circle: { centreX: number; centreY: number; radiusX: number; radiusY: number; colour: Rgb }): void => {
    const distance = (y - circle.centreY) / circle.radiusY;
    if (Math.abs(distance) >= 1) return;
    const halfWidth = circle.radiusX * Math.sqrt(1 - distance * distance);
    addSpan(circle.centreX - halfWidth, circle.centreX + halfWidth, circle.colour);
  };

  const gradientPosition = y / height;
  addSpan(0, width, mixColours({ from: design.backgroundTop, to: design.backgroundBottom, amount: gradientPosition }));

  addCircle({ centreX, centreY: layout.baseY, radiusX: layout.shadowRadiusX, radiusY: layout.shadowRadiusY, colour: design.shadowColour });

  if (y >= layout.bodyTop && y < layout.baseY) {
    const bodyPosition = (y - layout.bodyTop) / (layout.baseY - layout.bodyTop);
    let halfWidth = layout.shoulderHalfWidth + (layout.hemHalfWidth - layout.shoulderHalfWidth) * bodyPosition;
    const rounding = layout.shoulderRounding;
    const depth = y - layout.bodyTop;
    if (depth < rounding) {
      const rise = rounding - depth;
      halfWidth -= rounding - Math.sqrt(rounding * rounding - rise * rise);
    }
    const inBelt = design.beltColour !== undefined && y >= layout.beltTop && y < layout.beltBottom;
    addSpan(centreX - halfWidth, centreX + halfWidth, inBelt && design.beltColour ? design.beltColour : design.bodyColour);
  }

  const headRadius = layout.headRadius;
  addCircle({ centreX, centreY: layout.headCentreY, radiusX: headRadius, radiusY: headRadius, colour: design.headColour });
  for (const side of [-1, 1]) {
    const eye = { centreX: centreX + side * layout.eyeOffsetX, centreY: layout.eyeCentreY };
    addCircle({ ...eye, radiusX: layout.eyeRadius, radiusY: layout.eyeRadius, colour: design.eyeColour });
  }

  const headTop = layout.headCentreY - headRadius;
  if (design.headwear === 'top-hat') {
    const brimBottom = headTop + headRadius * 0.3;
    const brimTop = brimBottom - headRadius * 0.2;
    const crownTop = brimTop - headRadius * 0.95;
    if (y >= brimTop && y < brimBottom) addSpan(centreX - headRadius * 1.3, centreX + headRadius * 1.3, design.hatColour);
    if (y >= crownTop && y < brimTop) addSpan(centreX - headRadius * 0.72, centreX + headRadius * 0.72, design.hatColour);
  } else if (design.headwear === 'pointed-hat') {
    const apexY = headTop - headRadius * 1.5;
    const baseY = headTop + headRadius * 0.35;
    if (y >= apexY && y < baseY) {
      const halfWidth = (headRadius * 1.15 * (y - apexY)) / (baseY - apexY);
      addSpan(centreX - halfWidth, centreX + halfWidth, design.hatColour);
    }
  }

  const inset = layout.frameInset;
  const thickness = layout.frameThickness;
  const frameTop = inset;
  const frameBottom = height - inset;
  if (y >= frameTop && y < frameBottom) {
    if (y < frameTop + thickness || y >= frameBottom - thickness) {
      addSpan(inset, width - inset, design.frameColour);
    } else {
      addSpan(inset, inset + thickness, design.frameColour);
      addSpan(width - inset - thickness, width - inset, design.frameColour);
    }
  }
  return spans;
}

function snapSpansToBlocks(options: { spans: readonly Span[]; blockSize: number; width: number }): Span[] {
  const { spans, blockSize, width } = options;
  const snap = (value: number): number => Math.min(width, Math.round(value / blockSize) * blockSize);
  const snapped: Span[] = [];
  for (const span of spans) {
    // The background must keep covering the whole row whatever the rounding does.
    let start = span.start === 0 ? 0 : snap(span.start);
    let end = span.end === width ? width : snap(span.end);
    // Thin details (eyes, frame sides) would otherwise round away to nothing.
    if (end <= start) {
      end = Math.min(width, start + blockSize);
      start = Math.max(0, end - blockSize);
    }
    snapped.push({ start, end, colour: span.colour });
  }
  return snapped;
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

function convertHslToRgb(options: { hue: number; saturation: number; lightness: number }): Rgb {
  const hue = ((options.hue % 360) + 360) % 360;
  const saturation = Math.min(1, Math.max(0, options.saturation));
  const lightness = Math.min(1, Math.max(0, options.lightness));
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const secondary = chroma * (1 - Math.abs(((hue / 60) % 2) - 1));
  const match = lightness - chroma / 2;
  const sector = Math.floor(hue / 60);
  const [red, green, blue] =
    sector === 0 ? [chroma, secondary, 0]
    : sector === 1 ? [secondary, chroma, 0]
    : sector === 2 ? [0, chroma, secondary]
    : sector === 3 ? [0, secondary, chroma]
    : sector === 4 ? [secondary, 0, chroma]
    : [chroma, 0, secondary];
  return [clampToByte((red + match) * 255), clampToByte((green + match) * 255), clampToByte((blue + match) * 255)];
}

function mixColours(options: { from: Rgb; to: Rgb; amount: number }): Rgb {
  const { from, to } = options;
  const amount = Math.min(1, Math.max(0, options.amount));
  return [
    clampToByte(from[0] + (to[0] - from[0]) * amount),
    clampToByte(from[1] + (to[1] - from[1]) * amount),
    clampToByte(from[2] + (to[2] - from[2]) * amount),
  ];
}

function scaleColour(options: { colour: Rgb; factor: number }): Rgb {
  const { colour, factor } = options;
  return [clampToByte(colour[0] * factor), clampToByte(colour[1] * factor), clampToByte(colour[2] * factor)];
}

// Drafts keep a quarter of the saturation and are pulled towards mid grey, so they read as a rough pass.
function makeDraftColour(colour: Rgb): Rgb {
  const luminance = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2];
  const desaturated: Rgb = [
    luminance + (colour[0] - luminance) * 0.25,
    luminance + (colour[1] - luminance) * 0.25,
    luminance + (colour[2] - luminance) * 0.25,
  ];
  return mixColours({ from: desaturated, to: [128, 128, 128], amount: 0.2 });
}

function clampToByte(value: number): number {
  return Math.min(255, Math.max(0, Math.round(value)));
}
