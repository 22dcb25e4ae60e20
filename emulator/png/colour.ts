// Colour arithmetic for the placeholder card: HSL to RGB, mixing, scaling, and the washed-out draft look.

export type Rgb = readonly [red: number, green: number, blue: number];

export function convertHslToRgb(options: { hue: number; saturation: number; lightness: number }): Rgb {
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

export function mixColours(options: { from: Rgb; to: Rgb; amount: number }): Rgb {
  const { from, to } = options;
  const amount = Math.min(1, Math.max(0, options.amount));
  return [
    clampToByte(from[0] + (to[0] - from[0]) * amount),
    clampToByte(from[1] + (to[1] - from[1]) * amount),
    clampToByte(from[2] + (to[2] - from[2]) * amount),
  ];
}

export function scaleColour(options: { colour: Rgb; factor: number }): Rgb {
  const { colour, factor } = options;
  return [clampToByte(colour[0] * factor), clampToByte(colour[1] * factor), clampToByte(colour[2] * factor)];
}

// Drafts keep a quarter of the saturation and are pulled towards mid grey, so they read as a rough pass.
export function makeDraftColour(colour: Rgb): Rgb {
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
