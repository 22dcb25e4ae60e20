// Names what a file that is no supported image looks like, for the reason given back.
import { formatHex, hasBytes, readAscii, readUint8 } from './read-image-bytes.ts';

export function describeNonImage(bytes: Uint8Array): string {
  const start = readAscii(bytes, 0, 8);
  if (start.startsWith('%PDF')) return 'not an image (looks like a PDF document)';
  if (start.startsWith('PK\x03\x04') || start.startsWith('PK\x05\x06')) return 'not an image (looks like a ZIP archive)';
  if (hasBytes(bytes, 0, [0x1f, 0x8b])) return 'not an image (looks like a gzip archive)';
  if (start.startsWith('BM')) return 'unsupported image format: BMP';
  if (start.startsWith('II*\x00') || start.startsWith('MM\x00*')) return 'unsupported image format: TIFF';

  let textStart = hasBytes(bytes, 0, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (textStart < bytes.length && [0x09, 0x0a, 0x0d, 0x20].includes(readUint8(bytes, textStart))) textStart++;
  const firstCharacter = readAscii(bytes, textStart, 1);
  if (firstCharacter === '<') {
    const head = readAscii(bytes, textStart, 1024).toLowerCase();
    if (head.includes('<svg')) return 'unsupported image format: SVG (vector graphics)';
    return 'not an image (looks like text/HTML)';
  }
  if (firstCharacter === '{' || firstCharacter === '[') return 'not an image (looks like JSON text)';
  const head = bytes.subarray(textStart, textStart + 512);
  const isPlainText = head.length > 0 && head.every((byte) => byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte < 0x7f));
  if (isPlainText) return 'not an image (looks like plain text)';

  const firstBytes = [...bytes.subarray(0, 8)].map(formatHex).join(' ');
  return `unknown format (first bytes: ${firstBytes})`;
}
