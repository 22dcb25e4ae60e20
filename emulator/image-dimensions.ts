/**
 * Output sizes of Gemini 3 Pro Image: the 1K size per aspect ratio (from the image-generation docs' table);
 * 2K and 4K are exactly twice and four times it.
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
};

const sizeFactors: Readonly<Record<string, number>> = { '1K': 1, '2K': 2, '4K': 4 };

export const supportedAspectRatios = Object.keys(oneKilopixelSizes);
export const supportedImageSizes = Object.keys(sizeFactors);

export function findImageDimensions(options: { aspectRatio: string; imageSize: string }): { width: number; height: number } | undefined {
  const base = oneKilopixelSizes[options.aspectRatio];
  const factor = sizeFactors[options.imageSize];
  if (!base || factor === undefined) return undefined;
  return { width: base[0] * factor, height: base[1] * factor };
}
