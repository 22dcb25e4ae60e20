import { extname } from 'node:path';

/** What every browser shows in an `<img>`; HEIC and HEIF only Safari does, so they are never counted on. */
const shownByBrowsers = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);

/** The image types chargen takes and the UI serves, by file name. */
export const imageTypeByExtension: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
};

/**
 * Pure: whether a page can show a source image, and if not what to call it on a placeholder (`HEIC`). Judged by the
 * MIME type its bytes gave at analysis when known (browsers read the bytes, not the name), else by its name.
 */
export function describeSourcePreview(options: { path: string; mimeType?: string }): { shown: true } | { shown: false; format: string } {
  const extension = extname(options.path).toLowerCase();
  const mimeType = options.mimeType ?? imageTypeByExtension[extension];
  if (mimeType !== undefined && shownByBrowsers.has(mimeType)) return { shown: true };
  const format = mimeType?.startsWith('image/') ? mimeType.slice('image/'.length) : extension.slice(1);
  return { shown: false, format: format.toUpperCase() || 'FILE' };
}
