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
