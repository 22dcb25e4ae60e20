import fastGlob from 'fast-glob';
import { extname } from 'node:path';
import { takenFormatsText } from './inspect-input-image.ts';

/** Image formats by their file name ending that Gemini does not take: reported as failures, so they are seen. */
const refusedFormatsByExtension: Readonly<Record<string, string>> = {
  '.gif': 'GIF', '.bmp': 'BMP', '.dib': 'BMP', '.tif': 'TIFF', '.tiff': 'TIFF', '.avif': 'AVIF', '.svg': 'SVG', '.svgz': 'SVG',
  '.ico': 'ICO', '.icns': 'ICNS', '.psd': 'Photoshop (PSD)', '.xcf': 'GIMP (XCF)', '.jxl': 'JPEG XL', '.jp2': 'JPEG 2000',
  '.j2k': 'JPEG 2000', '.jpx': 'JPEG 2000', '.tga': 'TGA', '.exr': 'OpenEXR', '.hdr': 'Radiance HDR', '.pcx': 'PCX',
  '.ppm': 'Netpbm', '.pgm': 'Netpbm', '.pbm': 'Netpbm', '.pnm': 'Netpbm', '.dng': 'camera raw (DNG)', '.cr2': 'camera raw (CR2)',
  '.cr3': 'camera raw (CR3)', '.nef': 'camera raw (NEF)', '.arw': 'camera raw (ARW)', '.orf': 'camera raw (ORF)',
  '.rw2': 'camera raw (RW2)', '.raf': 'camera raw (RAF)', '.raw': 'camera raw',
};
/** JPEG under a rarer name: the format is taken, the name is not in the default patterns. */
const jpegExtensions: ReadonlySet<string> = new Set(['.jfif', '.jpe', '.pjpeg', '.pjp']);

/**
 * The files under `root` that no pattern matched and no ignore pattern leaves out, so that the scan can name them
 * instead of letting them vanish. Folders are not listed; links are listed as they are, not followed.
 */
export async function listUnmatchedFiles(options: { root: string; matched: readonly string[]; ignore: readonly string[] }): Promise<string[]> {
  const matched = new Set(options.matched);
  const names = await fastGlob(['**/*'], {
    cwd: options.root,
    ignore: [...options.ignore],
    caseSensitiveMatch: false,
    onlyFiles: false,
    markDirectories: true,
    followSymbolicLinks: false,
    dot: true,
    unique: true,
  });
  return names.filter((name) => !name.endsWith('/') && !matched.has(name)).sort();
}

export type UnmatchedFileReport = { kind: 'failure'; reason: string; fix: string } | { kind: 'warning'; message: string };

/** What to say of a file the patterns left out: an image format chargen does not take is a failure, anything else a warning. */
export function describeUnmatchedFile(relativePath: string): UnmatchedFileReport {
  const extension = extname(relativePath).toLowerCase();
  const refused = refusedFormatsByExtension[extension];
  if (refused) {
    return { kind: 'failure', reason: `a ${refused} file, which chargen does not take (it takes ${takenFormatsText})`, fix: 'Convert it to PNG or JPEG, or add it to analyze.ignore.' };
  }
  if (jpegExtensions.has(extension)) {
    return { kind: 'failure', reason: `named ${extension}, which analyze.patterns leaves out`, fix: `Rename it to .jpg, or add "**/*${extension}" to analyze.patterns.` };
  }
  return {
    kind: 'warning',
    message: `left out: its name does not match analyze.patterns (chargen takes ${takenFormatsText} images); add it to analyze.ignore to leave it out without a word`,
  };
}
