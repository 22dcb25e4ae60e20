// What every format's inspector answers: the format and its size, or why the bytes are not an image.

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'heic' | 'heif';

export type ImageInspection =
  | { ok: true; format: ImageFormat; mimeType: string; width: number; height: number }
  | { ok: false; reason: string };

const MIME_TYPES: Record<ImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
};

export function succeed(options: { format: ImageFormat; width: number; height: number }): ImageInspection {
  const { format, width, height } = options;
  return { ok: true, format, mimeType: MIME_TYPES[format], width, height };
}

export function fail(reason: string): ImageInspection {
  return { ok: false, reason };
}
