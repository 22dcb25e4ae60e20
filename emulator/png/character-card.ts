// The placeholder "character card": a design drawn from the seed, laid out for the size asked, and cut into the
// horizontal runs of flat colour each row is made of (encode-png.ts writes those runs as PNG rows).
import { createHash } from 'node:crypto';
import { convertHslToRgb, makeDraftColour, mixColours, scaleColour, type Rgb } from './colour.ts';

export type PngVariant = 'final' | 'draft';

export interface Span {
  start: number;
  end: number;
  colour: Rgb;
}

type Headwear = 'none' | 'top-hat' | 'pointed-hat';

/**
 * What an answer was made from, drawn on its card so a person sees it and written into its file so a test reads it:
 * the referenced images (their sha256, in the request's order) and `generationConfig.seed` when the request has one.
 */
export interface CardProvenance {
  references: readonly string[];
  seed?: string;
}

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
  /** One swatch per reference, coloured from its sha256 (the same image, the same swatch on every card). */
  referenceSwatches: Rgb[];
  /** The seed's 16 bits, dark or light, when the request has one. */
  seedBits: boolean[] | undefined;
}

export interface CardLayout {
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

function deriveSwatch(sha256: string): Rgb {
  const value = Number.parseInt(sha256.slice(0, 6), 16) || 0;
  return convertHslToRgb({ hue: (value >> 8) % 360, saturation: 0.7, lightness: 0.35 + 0.3 * ((value & 0xff) / 255) });
}

function deriveSeedBits(seed: string): boolean[] {
  const digest = createHash('sha256').update(`seed:${seed}`, 'utf8').digest();
  return Array.from({ length: 16 }, (_unused, index) => (((digest[index >> 3] ?? 0) >> (index & 7)) & 1) === 1);
}

export function deriveCardDesign(options: { seed: string; variant: PngVariant; provenance?: CardProvenance }): CardDesign {
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
    referenceSwatches: (options.provenance?.references ?? []).map((sha256) => adjust(deriveSwatch(sha256))),
    seedBits: options.provenance?.seed === undefined ? undefined : deriveSeedBits(options.provenance.seed),
  };
}

export function layoutCard(options: { width: number; height: number; design: CardDesign; blockSize: number }): CardLayout {
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
/** Paints one row of the card: spans added in painting order, the later over the earlier. */
interface RowPainter {
  layout: CardLayout;
  y: number;
  addSpan(start: number, end: number, colour: Rgb): void;
  addCircle(circle: { centreX: number; centreY: number; radiusX: number; radiusY: number; colour: Rgb }): void;
}

export function collectRowSpans(options: { layout: CardLayout; y: number }): Span[] {
  const { layout, y } = options;
  const { design, width, height, centreX } = layout;
  const spans: Span[] = [];
  const addSpan = (start: number, end: number, colour: Rgb): void => {
    const clampedStart = Math.max(0, Math.min(width, Math.round(start)));
    const clampedEnd = Math.max(0, Math.min(width, Math.round(end)));
    if (clampedEnd > clampedStart) spans.push({ start: clampedStart, end: clampedEnd, colour });
  };
  const addCircle: RowPainter['addCircle'] = (circle) => {
    const distance = (y - circle.centreY) / circle.radiusY;
    if (Math.abs(distance) >= 1) return;
    const halfWidth = circle.radiusX * Math.sqrt(1 - distance * distance);
    addSpan(circle.centreX - halfWidth, circle.centreX + halfWidth, circle.colour);
  };
  const painter: RowPainter = { layout, y, addSpan, addCircle };

  const gradientPosition = y / height;
  addSpan(0, width, mixColours({ from: design.backgroundTop, to: design.backgroundBottom, amount: gradientPosition }));
  addCircle({ centreX, centreY: layout.baseY, radiusX: layout.shadowRadiusX, radiusY: layout.shadowRadiusY, colour: design.shadowColour });
  paintBody(painter);
  const headRadius = layout.headRadius;
  addCircle({ centreX, centreY: layout.headCentreY, radiusX: headRadius, radiusY: headRadius, colour: design.headColour });
  for (const side of [-1, 1]) {
    const eye = { centreX: centreX + side * layout.eyeOffsetX, centreY: layout.eyeCentreY };
    addCircle({ ...eye, radiusX: layout.eyeRadius, radiusY: layout.eyeRadius, colour: design.eyeColour });
  }
  paintHeadwear(painter);
  paintFrame(painter);
  paintProvenance(painter);
  return spans;
}

/**
 * Along the bottom, inside the frame: a square swatch per reference on the left (as many as the request carried),
 * and the seed's 16 bits as dark and light cells on the right.
 */
function paintProvenance(painter: RowPainter): void {
  const { layout, y, addSpan } = painter;
  const { design, width, height } = layout;
  const size = Math.max(2, Math.round(Math.min(width, height) * 0.045));
  const gap = Math.max(1, Math.round(size / 4));
  const bottom = height - layout.frameInset - layout.frameThickness - gap;
  if (y < bottom - size || y >= bottom) return;
  const left = layout.frameInset + layout.frameThickness + gap;
  for (const [index, colour] of design.referenceSwatches.entries()) {
    const start = left + index * (size + gap);
    if (start + size > width / 2) break;
    addSpan(start, start + size, colour);
  }
  const cell = Math.max(1, Math.round(size / 2));
  const right = width - layout.frameInset - layout.frameThickness - gap;
  for (const [index, bit] of (design.seedBits ?? []).entries()) {
    const start = right - (16 - index) * cell;
    addSpan(start, start + cell, bit ? [240, 240, 240] : [20, 20, 20]);
  }
}

/** The body: a trapezoid from shoulders to hem, rounded at the shoulders, with the belt's colour across the belt. */
function paintBody(painter: RowPainter): void {
  const { layout, y } = painter;
  const { design, centreX } = layout;
  if (y < layout.bodyTop || y >= layout.baseY) return;
  const bodyPosition = (y - layout.bodyTop) / (layout.baseY - layout.bodyTop);
  let halfWidth = layout.shoulderHalfWidth + (layout.hemHalfWidth - layout.shoulderHalfWidth) * bodyPosition;
  const rounding = layout.shoulderRounding;
  const depth = y - layout.bodyTop;
  if (depth < rounding) {
    const rise = rounding - depth;
    halfWidth -= rounding - Math.sqrt(rounding * rounding - rise * rise);
  }
  const inBelt = design.beltColour !== undefined && y >= layout.beltTop && y < layout.beltBottom;
  painter.addSpan(centreX - halfWidth, centreX + halfWidth, inBelt && design.beltColour ? design.beltColour : design.bodyColour);
}

function paintHeadwear(painter: RowPainter): void {
  const { layout, y, addSpan } = painter;
  const { design, centreX, headRadius } = layout;
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
}

function paintFrame(painter: RowPainter): void {
  const { layout, y, addSpan } = painter;
  const { design, width, height } = layout;
  const inset = layout.frameInset;
  const thickness = layout.frameThickness;
  const frameTop = inset;
  const frameBottom = height - inset;
  if (y < frameTop || y >= frameBottom) return;
  if (y < frameTop + thickness || y >= frameBottom - thickness) {
    addSpan(inset, width - inset, design.frameColour);
  } else {
    addSpan(inset, inset + thickness, design.frameColour);
    addSpan(width - inset - thickness, width - inset, design.frameColour);
  }
}

export function snapSpansToBlocks(options: { spans: readonly Span[]; blockSize: number; width: number }): Span[] {
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
