/**
 * Output sizes per aspect ratio: the 1K size of each (from the image-generation docs' table); 2K and 4K are exactly
 * twice and four times it, and 3.1 Flash Image's `512` half of it (Google's 512 table: 1:1 512², 16:9 688×384,
 * 1:4 256×1024, 8:1 1536×192). The 1K sizes of the 1:4, 4:1, 1:8 and 8:1 ratios are twice their 512 sizes (unconfirmed).
 * Which ratios and sizes a model takes is in `schemas/gemini-models.json`.
 */
const oneKilopixelSizes: Readonly<Record<string, readonly [number, number]>> = {
  '1:1': [1024, 1024],
  '2:3': [848, 1264],
  '3:2': [1264, 848],
  '3:4': [896, 1200],
  '4:3': [1200, 896],
  '4:5': [928, 1152],
  '5:4': [1152, 928],
  '9:16': [768, 1376],
  '16:9': [1376, 768],
  '21:9': [1584, 672],
  '1:4': [512, 2048],
  '4:1': [2048, 512],
  '1:8': [384, 3072],
  '8:1': [3072, 384],
};

const sizeFactors: Readonly<Record<string, number>> = { '512': 0.5, '1K': 1, '2K': 2, '4K': 4 };

export function findImageDimensions(options: { aspectRatio: string; imageSize: string }): { width: number; height: number } | undefined {
  const base = oneKilopixelSizes[options.aspectRatio];
  const factor = sizeFactors[options.imageSize];
  if (!base || factor === undefined) return undefined;
  return { width: base[0] * factor, height: base[1] * factor };
}
