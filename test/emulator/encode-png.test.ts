import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodePng, readPngDimensions } from '../../emulator/png/encode-png.ts';
import { inspectImage } from '../../lib/media/inspect-image.ts';

interface DecodedImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

// Independent minimal decoder for 8-bit RGB, non-interlaced PNGs, supporting all five row filters.
function decodeRgbPng(png: Uint8Array): DecodedImage {
  const bytes = Buffer.from(png);
  let offset = 8;
  let width = 0;
  let height = 0;
  const dataParts: Buffer[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([...data.subarray(8)]).toEqual([8, 2, 0, 0, 0]);
    }
    if (type === 'IDAT') dataParts.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(dataParts));
  const stride = width * 3;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] ?? 0;
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x] ?? 0;
      const left = x >= 3 ? (pixels[y * stride + x - 3] ?? 0) : 0;
      const up = y > 0 ? (pixels[(y - 1) * stride + x] ?? 0) : 0;
      const upLeft = x >= 3 && y > 0 ? (pixels[(y - 1) * stride + x - 3] ?? 0) : 0;
      const predictor =
        filter === 0 ? 0
        : filter === 1 ? left
        : filter === 2 ? up
        : filter === 3 ? Math.floor((left + up) / 2)
        : choosePaeth(left, up, upLeft);
      pixels[y * stride + x] = (value + predictor) & 0xff;
    }
  }
  return { width, height, pixels };
}

function choosePaeth(left: number, up: number, upLeft: number): number {
  const estimate = left + up - upLeft;
  const leftDistance = Math.abs(estimate - left);
  const upDistance = Math.abs(estimate - up);
  const upLeftDistance = Math.abs(estimate - upLeft);
  if (leftDistance <= upDistance && leftDistance <= upLeftDistance) return left;
  return upDistance <= upLeftDistance ? up : upLeft;
}

function readPixel(image: DecodedImage, x: number, y: number): string {
  const offset = (y * image.width + x) * 3;
  return [...image.pixels.subarray(offset, offset + 3)].join(',');
}

function measureMeanSaturation(image: DecodedImage): number {
  let total = 0;
  for (let offset = 0; offset < image.pixels.length; offset += 3) {
    const channels = [image.pixels[offset] ?? 0, image.pixels[offset + 1] ?? 0, image.pixels[offset + 2] ?? 0];
    total += Math.max(...channels) - Math.min(...channels);
  }
  return total / (image.pixels.length / 3);
}

function countDifferingPixels(first: DecodedImage, second: DecodedImage): number {
  let count = 0;
  for (let offset = 0; offset < first.pixels.length; offset += 3) {
    if (
      first.pixels[offset] !== second.pixels[offset] ||
      first.pixels[offset + 1] !== second.pixels[offset + 1] ||
      first.pixels[offset + 2] !== second.pixels[offset + 2]
    ) {
      count++;
    }
  }
  return count;
}

describe('encodePng', () => {
  const sizes: [number, number][] = [
    [1, 1],
    [2, 3],
    [3, 500],
    [500, 3],
    [768, 1376],
    [5504, 3072],
    [6336, 2688],
  ];
  for (const [width, height] of sizes) {
    for (const variant of ['final', 'draft'] as const) {
      it(`produces a valid ${width}x${height} ${variant} PNG`, () => {
        const png = encodePng({ width, height, seed: `size-${width}x${height}`, variant });
        expect(readPngDimensions(png)).toEqual({ width, height });
        expect(inspectImage(png)).toEqual({ ok: true, format: 'png', mimeType: 'image/png', width, height });
      });
    }
  }

  it('is deterministic for a seed', () => {
    const first = encodePng({ width: 320, height: 480, seed: 'hero-42' });
    const second = encodePng({ width: 320, height: 480, seed: 'hero-42' });
    expect(first.equals(second)).toBe(true);
    const firstDraft = encodePng({ width: 320, height: 480, seed: 'hero-42', variant: 'draft' });
    expect(firstDraft.equals(encodePng({ width: 320, height: 480, seed: 'hero-42', variant: 'draft' }))).toBe(true);
  });

  it('draws visibly different pictures for different seeds', () => {
    const seeds = ['knight', 'wizard', 'rogue', 'bard', 'cleric', 'ranger', 'monk', 'druid'];
    const images = seeds.map((seed) => decodeRgbPng(encodePng({ width: 256, height: 384, seed })));
    // The background just inside the top edge is seed-coloured, so no two cards should share it.
    const topColours = new Set(images.map((image) => readPixel(image, 2, 2)));
    expect(topColours.size).toBe(seeds.length);
    for (let index = 1; index < images.length; index++) {
      const [previous, current] = [images[index - 1], images[index]];
      if (previous === undefined || current === undefined) throw new Error('missing image');
      expect(countDifferingPixels(previous, current)).toBeGreaterThan((256 * 384) / 2);
    }
  });

  it('draws a gradient background and a figure in the middle', () => {
    const image = decodeRgbPng(encodePng({ width: 256, height: 384, seed: 'figure' }));
    expect(image.pixels.length).toBe(256 * 384 * 3);
    // Top and bottom of the background differ (gradient) ...
    expect(readPixel(image, 2, 2)).not.toBe(readPixel(image, 2, 381));
    // ... and the middle of the body differs from the background beside it on the same row.
    const bodyRow = Math.round(384 * 0.7);
    expect(readPixel(image, 128, bodyRow)).not.toBe(readPixel(image, 20, bodyRow));
    const colours = new Set<string>();
    for (let y = 0; y < image.height; y += 7) {
      for (let x = 0; x < image.width; x += 5) colours.add(readPixel(image, x, y));
    }
    expect(colours.size).toBeGreaterThan(20);
  });

  it('makes drafts that differ from the final picture and are greyer', () => {
    for (const seed of ['alpha', 'bravo', 'charlie']) {
      const final = decodeRgbPng(encodePng({ width: 240, height: 360, seed }));
      const draft = decodeRgbPng(encodePng({ width: 240, height: 360, seed, variant: 'draft' }));
      expect(countDifferingPixels(final, draft)).toBeGreaterThan((240 * 360) / 2);
      expect(measureMeanSaturation(draft)).toBeLessThan(measureMeanSaturation(final) * 0.6);
    }
  });

  it('rejects impossible sizes', () => {
    expect(() => encodePng({ width: 0, height: 10, seed: 'x' })).toThrow(RangeError);
    expect(() => encodePng({ width: 10, height: 2.5, seed: 'x' })).toThrow(RangeError);
    expect(() => encodePng({ width: Number.NaN, height: 10, seed: 'x' })).toThrow(RangeError);
  });
});

describe('readPngDimensions', () => {
  it('returns undefined for non-PNG or truncated input', () => {
    const png = encodePng({ width: 9, height: 4, seed: 'read' });
    expect(readPngDimensions(png.subarray(0, 24))).toEqual({ width: 9, height: 4 });
    expect(readPngDimensions(png.subarray(0, 23))).toBeUndefined();
    expect(readPngDimensions(new Uint8Array(0))).toBeUndefined();
    expect(readPngDimensions(Buffer.from('%PDF-1.7 and then some more bytes'))).toBeUndefined();
  });
});
