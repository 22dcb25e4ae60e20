import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../emulator/png/encode-png.ts';
import { inspectImage } from '../../lib/media/inspect-image.ts';
import type { ImageInspection } from '../../lib/media/inspect-image.ts';
import { buildHeif, concatBytes, uint16BigEndian, uint32BigEndian } from '../support/sample-heif.ts';

// ---- byte builders ------------------------------------------------------------------------------------------

function uint16LittleEndian(value: number): number[] {
  return [value & 0xff, (value >> 8) & 0xff];
}

function uint24LittleEndian(value: number): number[] {
  return [value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff];
}

function uint32LittleEndian(value: number): number[] {
  return [value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, (value >>> 24) & 0xff];
}

function buildPngChunk(options: { type: string; data: Uint8Array | readonly number[] }): Uint8Array {
  const data = Uint8Array.from(options.data);
  const typeAndData = concatBytes(options.type, data);
  return concatBytes(uint32BigEndian(data.length), typeAndData, uint32BigEndian(crc32(typeAndData)));
}

function buildPng(options: {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  interlace?: number;
  imageData: Uint8Array;
  extraChunksBeforeData?: Uint8Array[];
}): Uint8Array {
  const header = concatBytes(uint32BigEndian(options.width), uint32BigEndian(options.height), [
    options.bitDepth,
    options.colourType,
    0,
    0,
    options.interlace ?? 0,
  ]);
  return concatBytes(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    buildPngChunk({ type: 'IHDR', data: header }),
    ...(options.extraChunksBeforeData ?? []),
    buildPngChunk({ type: 'IDAT', data: deflateSync(options.imageData) }),
    buildPngChunk({ type: 'IEND', data: [] }),
  );
}

function findPngChunk(bytes: Uint8Array, type: string): { dataStart: number; length: number } {
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = Buffer.from(bytes).readUInt32BE(offset);
    if (Buffer.from(bytes.subarray(offset + 4, offset + 8)).toString('latin1') === type) return { dataStart: offset + 8, length };
    offset += 12 + length;
  }
  throw new Error(`no ${type} chunk`);
}

function jpegSegment(marker: number, payload: readonly number[] | Uint8Array | string): Uint8Array {
  const body = concatBytes(payload);
  return concatBytes([0xff, marker], uint16BigEndian(body.length + 2), body);
}

function buildJpeg(options: { width: number; height: number }): Uint8Array {
  const { width, height } = options;
  return concatBytes(
    [0xff, 0xd8],
    jpegSegment(0xe0, concatBytes('JFIF\0', [1, 1, 0, 0, 1, 0, 1, 0, 0])),
    jpegSegment(0xdb, [0x00, ...new Array<number>(64).fill(1)]),
    jpegSegment(0xc0, [8, ...uint16BigEndian(height), ...uint16BigEndian(width), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]),
    jpegSegment(0xc4, [0x00, 0, 1, ...new Array<number>(14).fill(0), 0x00]),
    jpegSegment(0xda, [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]),
    // Entropy data with a stuffed 0xFF00 and a restart marker, which must not be taken for the end.
    [0x12, 0x34, 0xff, 0x00, 0x56, 0x78, 0xff, 0xd0, 0x9a],
    [0xff, 0xd9],
  );
}

function buildWebp(chunks: { type: string; data: Uint8Array | readonly number[] }[]): Uint8Array {
  const body = concatBytes(
    'WEBP',
    ...chunks.map((chunk) => {
      const data = Uint8Array.from(chunk.data);
      return concatBytes(chunk.type, uint32LittleEndian(data.length), data, data.length % 2 === 1 ? [0] : []);
    }),
  );
  return concatBytes('RIFF', uint32LittleEndian(body.length), body);
}

function buildVp8Data(options: { width: number; height: number }): number[] {
  const firstPartitionSize = 4;
  const frameTag = (firstPartitionSize << 5) | (1 << 4); // key frame (bit 0 clear), shown
  return [...uint24LittleEndian(frameTag), 0x9d, 0x01, 0x2a, ...uint16LittleEndian(options.width), ...uint16LittleEndian(options.height), 1, 2, 3, 4];
}

function buildVp8lData(options: { width: number; height: number }): number[] {
  const bits = ((options.width - 1) | ((options.height - 1) << 14)) >>> 0;
  return [0x2f, ...uint32LittleEndian(bits), 0x07, 0x00];
}

function buildGif(options: { width: number; height: number }): Uint8Array {
  const { width, height } = options;
  return concatBytes(
    'GIF89a',
    uint16LittleEndian(width),
    uint16LittleEndian(height),
    [0x80, 0, 0], // global colour table of two entries
    [0, 0, 0, 255, 255, 255],
    [0x21, 0xf9, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00], // graphic control extension
    [0x2c, 0, 0, 0, 0, ...uint16LittleEndian(width), ...uint16LittleEndian(height), 0x00],
    [0x02, 0x02, 0x44, 0x01, 0x00], // LZW code size, one data sub-block, terminator
    [0x3b],
  );
}

// Small deterministic PRNG so fuzz failures are reproducible.
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function expectWellFormed(result: ImageInspection): void {
  if (result.ok) {
    expect(Number.isInteger(result.width) && result.width >= 0).toBe(true);
    expect(Number.isInteger(result.height) && result.height >= 0).toBe(true);
  } else {
    expect(result.reason.length).toBeGreaterThan(0);
    // That prefix only comes from the safety net, i.e. a read guard that failed.
    expect(result.reason).not.toMatch(/^could not inspect/);
  }
}

// ---- samples ------------------------------------------------------------------------------------------------

const validSamples: { name: string; bytes: Uint8Array; expected: Omit<Extract<ImageInspection, { ok: true }>, 'ok'> }[] = [
  {
    name: 'PNG from encodePng',
    bytes: encodePng({ width: 12, height: 7, seed: 'sample' }),
    expected: { format: 'png', mimeType: 'image/png', width: 12, height: 7 },
  },
  {
    name: 'JPEG',
    bytes: buildJpeg({ width: 640, height: 480 }),
    expected: { format: 'jpeg', mimeType: 'image/jpeg', width: 640, height: 480 },
  },
  {
    name: 'WebP VP8',
    bytes: buildWebp([{ type: 'VP8 ', data: buildVp8Data({ width: 300, height: 200 }) }]),
    expected: { format: 'webp', mimeType: 'image/webp', width: 300, height: 200 },
  },
  {
    name: 'WebP VP8L',
    bytes: buildWebp([{ type: 'VP8L', data: buildVp8lData({ width: 1024, height: 16384 }) }]),
    expected: { format: 'webp', mimeType: 'image/webp', width: 1024, height: 16384 },
  },
  {
    name: 'WebP VP8X',
    bytes: buildWebp([
      { type: 'VP8X', data: [0x10, 0, 0, 0, ...uint24LittleEndian(4999), ...uint24LittleEndian(2999)] },
      { type: 'VP8L', data: buildVp8lData({ width: 5000, height: 3000 }) },
    ]),
    expected: { format: 'webp', mimeType: 'image/webp', width: 5000, height: 3000 },
  },
  {
    name: 'GIF',
    bytes: buildGif({ width: 3, height: 2 }),
    expected: { format: 'gif', mimeType: 'image/gif', width: 3, height: 2 },
  },
  {
    name: 'HEIC',
    bytes: buildHeif({
      majorBrand: 'heic',
      compatibleBrands: ['mif1', 'heic'],
      extents: [{ width: 512, height: 512 }, { width: 1024, height: 768 }],
      primaryPropertyIndex: 2,
    }),
    expected: { format: 'heic', mimeType: 'image/heic', width: 1024, height: 768 },
  },
  {
    name: 'HEIF',
    bytes: buildHeif({ majorBrand: 'mif1', compatibleBrands: ['mif1'], extents: [{ width: 40, height: 30 }], primaryPropertyIndex: 1 }),
    expected: { format: 'heif', mimeType: 'image/heif', width: 40, height: 30 },
  },
];

// ---- tests --------------------------------------------------------------------------------------------------

describe('inspectImage on valid files', () => {
  for (const sample of validSamples) {
    it(`accepts ${sample.name}`, () => {
      expect(inspectImage(sample.bytes)).toEqual({ ok: true, ...sample.expected });
    });
  }

  it('accepts a 4K PNG from encodePng', () => {
    const result = inspectImage(encodePng({ width: 5504, height: 3072, seed: '4k' }));
    expect(result).toEqual({ ok: true, format: 'png', mimeType: 'image/png', width: 5504, height: 3072 });
  });

  it('computes the Adam7 data size for interlaced PNGs', () => {
    // 5x3 8-bit grey: passes contribute 2+2+0+2+4+6+6 = 22 bytes (filter byte + pixels per pass row).
    const build = (size: number): Uint8Array =>
      buildPng({ width: 5, height: 3, bitDepth: 8, colourType: 0, interlace: 1, imageData: new Uint8Array(size) });
    expect(inspectImage(build(22))).toMatchObject({ ok: true, width: 5, height: 3 });
    expect(inspectImage(build(21))).toMatchObject({ ok: false });
    expect(inspectImage(build(23))).toMatchObject({ ok: false });

    // 10x10: pass heights 2+2+1+3+2+5+5 = 20 filter bytes plus 100 pixels; every pass is non-empty here.
    const buildLarger = (size: number): Uint8Array =>
      buildPng({ width: 10, height: 10, bitDepth: 8, colourType: 0, interlace: 1, imageData: new Uint8Array(size) });
    expect(inspectImage(buildLarger(120))).toMatchObject({ ok: true, width: 10, height: 10 });
    expect(inspectImage(buildLarger(119))).toMatchObject({ ok: false });
    expect(inspectImage(buildLarger(121))).toMatchObject({ ok: false });
  });

  it('computes the row size for sub-byte and 16-bit PNGs', () => {
    // 9 pixels at 1 bit need 2 bytes per row; 3 RGBA pixels at 16 bits need 24.
    const grey = buildPng({ width: 9, height: 4, bitDepth: 1, colourType: 0, imageData: new Uint8Array(4 * 3) });
    const rgba = buildPng({ width: 3, height: 2, bitDepth: 16, colourType: 6, imageData: new Uint8Array(2 * 25) });
    expect(inspectImage(grey)).toMatchObject({ ok: true, width: 9, height: 4 });
    expect(inspectImage(rgba)).toMatchObject({ ok: true, width: 3, height: 2 });
  });

  it('accepts a JPEG followed by zero padding or trailing data after EOI', () => {
    const jpeg = buildJpeg({ width: 8, height: 8 });
    expect(inspectImage(concatBytes(jpeg, new Uint8Array(32)))).toMatchObject({ ok: true, width: 8, height: 8 });
    expect(inspectImage(concatBytes(jpeg, 'appended metadata'))).toMatchObject({ ok: true });
  });

  it("uses the primary item's ispe, not the first or largest one", () => {
    const heic = buildHeif({
      majorBrand: 'heic',
      compatibleBrands: [],
      extents: [{ width: 512, height: 512 }, { width: 4032, height: 3024 }],
      primaryPropertyIndex: 1,
    });
    expect(inspectImage(heic)).toMatchObject({ ok: true, width: 512, height: 512 });
  });

  it('falls back to the largest ispe without associations, and to 0x0 without any ispe', () => {
    const withoutAssociations = buildHeif({
      majorBrand: 'heix',
      compatibleBrands: [],
      extents: [{ width: 512, height: 512 }, { width: 4032, height: 3024 }],
      withAssociations: false,
    });
    expect(inspectImage(withoutAssociations)).toMatchObject({ ok: true, format: 'heic', width: 4032, height: 3024 });
    const withoutExtent = buildHeif({ majorBrand: 'msf1', compatibleBrands: [] });
    expect(inspectImage(withoutExtent)).toEqual({ ok: true, format: 'heif', mimeType: 'image/heif', width: 0, height: 0 });
  });
});

describe('inspectImage on broken files', () => {
  for (const sample of validSamples) {
    it(`rejects every truncation of ${sample.name}`, () => {
      for (let length = 0; length < sample.bytes.length; length++) {
        const result = inspectImage(sample.bytes.subarray(0, length));
        expectWellFormed(result);
        if (result.ok) throw new Error(`${sample.name} truncated to ${length} bytes was accepted`);
      }
    });
  }

  it('rejects a PNG with a flipped byte in its image data', () => {
    const png = new Uint8Array(encodePng({ width: 64, height: 64, seed: 'flip' }));
    const idat = findPngChunk(png, 'IDAT');
    const flipped = png.slice();
    const target = idat.dataStart + Math.floor(idat.length / 2);
    flipped[target] = (flipped[target] ?? 0) ^ 0x5a;
    expect(inspectImage(flipped)).toEqual({ ok: false, reason: 'PNG chunk IDAT has a bad CRC' });

    // With the chunk CRC repaired, the zlib checksum or the size check must still catch it.
    const repaired = flipped.slice();
    const crc = crc32(repaired.subarray(idat.dataStart - 4, idat.dataStart + idat.length));
    repaired.set(uint32BigEndian(crc), idat.dataStart + idat.length);
    const result = inspectImage(repaired);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(/PNG image data/);
  });

  it('rejects PNG image data of the wrong size', () => {
    const result = inspectImage(buildPng({ width: 16, height: 16, bitDepth: 8, colourType: 2, imageData: new Uint8Array(15 * 49) }));
    expect(result).toEqual({ ok: false, reason: 'corrupted or truncated PNG image data: 735 bytes, expected 784' });
  });

  it('rejects PNG rows with an invalid filter type', () => {
    const imageData = new Uint8Array(2 * 4);
    imageData[4] = 9;
    const result = inspectImage(buildPng({ width: 3, height: 2, bitDepth: 8, colourType: 0, imageData }));
    expect(result).toEqual({ ok: false, reason: 'corrupted PNG image data: invalid row filter type 9' });
  });

  it('rejects PNG headers with invalid fields', () => {
    const badDepth = buildPng({ width: 1, height: 1, bitDepth: 4, colourType: 2, imageData: new Uint8Array(2) });
    expect(inspectImage(badDepth)).toMatchObject({ ok: false, reason: expect.stringMatching(/bit depth 4/) });
    const zeroWidth = buildPng({ width: 0, height: 1, bitDepth: 8, colourType: 0, imageData: new Uint8Array(1) });
    expect(inspectImage(zeroWidth)).toMatchObject({ ok: false, reason: expect.stringMatching(/invalid dimensions/) });
    const noPalette = buildPng({ width: 1, height: 1, bitDepth: 8, colourType: 3, imageData: new Uint8Array(2) });
    expect(inspectImage(noPalette)).toMatchObject({ ok: false, reason: expect.stringMatching(/PLTE/) });
    const withPalette = buildPng({
      width: 1,
      height: 1,
      bitDepth: 8,
      colourType: 3,
      imageData: new Uint8Array(2),
      extraChunksBeforeData: [buildPngChunk({ type: 'PLTE', data: [1, 2, 3] })],
    });
    expect(inspectImage(withPalette)).toMatchObject({ ok: true });
  });

  it('rejects a PNG whose IHDR CRC is wrong', () => {
    const png = new Uint8Array(encodePng({ width: 2, height: 2, seed: 'crc' }));
    png[29] = (png[29] ?? 0) ^ 1;
    expect(inspectImage(png)).toEqual({ ok: false, reason: 'PNG chunk IHDR has a bad CRC' });
  });

  it('rejects a JPEG that ends in zero padding without EOI', () => {
    const jpeg = buildJpeg({ width: 8, height: 8 });
    const withoutEnd = concatBytes(jpeg.subarray(0, jpeg.length - 2), new Uint8Array(64));
    expect(inspectImage(withoutEnd)).toEqual({ ok: false, reason: 'truncated JPEG: no end-of-image (EOI) marker' });
  });

  it('rejects a WebP whose RIFF size exceeds the file', () => {
    const webp = buildWebp([{ type: 'VP8L', data: buildVp8lData({ width: 2, height: 2 }) }]);
    const result = inspectImage(webp.subarray(0, webp.length - 1));
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/^truncated WebP/) });
  });

  it('rejects a GIF without a trailer', () => {
    const gif = buildGif({ width: 3, height: 2 });
    expect(inspectImage(gif.subarray(0, gif.length - 1))).toEqual({ ok: false, reason: 'truncated GIF: no trailer (0x3B)' });
  });

  it('rejects AVIF and plain MP4 files that share the ISO media container', () => {
    expect(inspectImage(buildHeif({ majorBrand: 'avif', compatibleBrands: ['mif1'] }))).toEqual({
      ok: false,
      reason: 'unsupported image format: AVIF',
    });
    expect(inspectImage(buildHeif({ majorBrand: 'isom', compatibleBrands: ['mp42'] }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^not an image/),
    });
  });
});

describe('inspectImage on non-images', () => {
  const cases: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(0), 'empty file'],
    ['PDF', concatBytes('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj'), 'not an image (looks like a PDF document)'],
    ['HTML', concatBytes('\xef\xbb\xbf\n  <!DOCTYPE html><html><body>Not found</body></html>'), 'not an image (looks like text/HTML)'],
    ['JSON', concatBytes('{"error":{"code":403}}'), 'not an image (looks like JSON text)'],
    ['ZIP', concatBytes('PK\x03\x04\x14\x00\x00\x00'), 'not an image (looks like a ZIP archive)'],
    ['BMP', concatBytes('BM\x36\x00\x00\x00\x00\x00'), 'unsupported image format: BMP'],
    ['TIFF', concatBytes('II*\x00\x08\x00\x00\x00'), 'unsupported image format: TIFF'],
    ['SVG', concatBytes('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'), 'unsupported image format: SVG (vector graphics)'],
    ['WAV', concatBytes('RIFF', uint32LittleEndian(4), 'WAVE'), 'not an image (looks like a RIFF "WAVE" file, not WebP)'],
    ['unknown', Uint8Array.from([0, 1, 2, 3, 0xfe, 0xed, 0xfa, 0xce, 9, 9]), 'unknown format (first bytes: 00 01 02 03 fe ed fa ce)'],
    ['short unknown', Uint8Array.from([0x89]), 'unknown format (first bytes: 89)'],
    ['plain text', new TextEncoder().encode('these are my notes\n'), 'not an image (looks like plain text)'],
  ];
  for (const [name, bytes, reason] of cases) {
    it(`explains ${name}`, () => {
      expect(inspectImage(bytes)).toEqual({ ok: false, reason });
    });
  }
});

describe('inspectImage never throws', () => {
  it('handles random bytes', () => {
    const random = createRandom(1);
    for (let index = 0; index < 400; index++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 600) }, () => Math.floor(random() * 256));
      expectWellFormed(inspectImage(bytes));
    }
  });

  it('handles random bytes behind every recognised magic number', () => {
    const random = createRandom(2);
    const prefixes = [
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      [0xff, 0xd8, 0xff],
      [...Buffer.from('GIF89a')],
      [...Buffer.from('RIFF'), 0x40, 0, 0, 0, ...Buffer.from('WEBP')],
      [0, 0, 0, 0x18, ...Buffer.from('ftypheic')],
    ];
    for (const prefix of prefixes) {
      for (let index = 0; index < 100; index++) {
        const tail = Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256));
        expectWellFormed(inspectImage(Uint8Array.from([...prefix, ...tail])));
      }
    }
  });

  it('handles valid files with random bytes changed', () => {
    const random = createRandom(3);
    for (const sample of validSamples) {
      for (let index = 0; index < 150; index++) {
        const mutated = sample.bytes.slice();
        const changes = 1 + Math.floor(random() * 4);
        for (let change = 0; change < changes; change++) {
          mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
        }
        const length = random() < 0.3 ? Math.floor(random() * mutated.length) : mutated.length;
        expectWellFormed(inspectImage(mutated.subarray(0, length)));
      }
    }
  });
});
