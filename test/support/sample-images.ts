import sharp from 'sharp';
import { encodePng } from '../../emulator/png/encode-png.ts';

/** Small real PNGs, different per seed, for requests that reference images. */
export function createSamplePng(seed: string, size = { width: 64, height: 96 }): Buffer {
  return encodePng({ ...size, seed });
}

/** A structurally valid baseline JPEG (headers only matter to the emulator's decoder check). */
export function createSampleJpeg(options: { width: number; height: number }): Buffer {
  const segment = (marker: number, payload: number[]) => [0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload];
  const app0 = segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const dqt = segment(0xdb, [0x00, ...Array.from({ length: 64 }, () => 1)]);
  const sof0 = segment(0xc0, [8, options.height >> 8, options.height & 0xff, options.width >> 8, options.width & 0xff, 1, 1, 0x11, 0]);
  const dht = segment(0xc4, [0x00, 0, 1, ...Array.from({ length: 14 }, () => 0), 0]);
  const sos = segment(0xda, [1, 1, 0x00, 0, 63, 0]);
  return Buffer.from([0xff, 0xd8, ...app0, ...dqt, ...sof0, ...dht, ...sos, 0x12, 0x34, 0x56, 0xff, 0xd9]);
}

/**
 * A 1K output as the image model returns it, for measuring what a page fetches: an 896×1200 JPEG (quality 85) of
 * smooth shapes with a photograph's grain, about 290 KB (its thumbnail about 6.6 KB) (noise alone would be larger than any photo,
 * and shrink to nothing in a thumbnail; flat colour the other way round).
 */
export async function createOutputLikeJpeg(seed: number): Promise<Buffer> {
  const width = 896;
  const height = 1200;
  const pixels = Buffer.alloc(width * height * 3);
  let state = Math.imul(seed + 1, 2654435761) >>> 0;
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      for (let channel = 0; channel < 3; channel += 1) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        const shape = 128 + 90 * Math.sin((x + seed * 37) / (23 + channel * 7)) * Math.cos((y - seed * 11) / (31 + channel * 5));
        pixels[(y * width + x) * 3 + channel] = Math.max(0, Math.min(255, Math.round(shape + ((state >>> 24) - 128) / 6)));
      }
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}
