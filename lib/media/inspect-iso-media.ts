// HEIC / HEIF (ISO base media file format): the brands, the boxes, the item locations and the primary image size.
import { fail, succeed, type ImageInspection } from './image-inspection.ts';
import { describeFourCc, readAscii, readSizedUint, readUint16BigEndian, readUint32BigEndian, readUint8 } from './read-image-bytes.ts';

const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis']);
const HEIF_BRANDS = new Set(['mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

interface IsoBox {
  type: string;
  contentStart: number;
  end: number;
}

export function inspectIsoMedia(bytes: Uint8Array): ImageInspection {
  const ftypSize = readUint32BigEndian(bytes, 0);
  if (ftypSize < 16 || ftypSize > bytes.length) {
    return fail(ftypSize > bytes.length ? 'truncated ISO media file: incomplete ftyp box' : 'corrupted ISO media file: ftyp box is too small');
  }
  const majorBrand = readAscii(bytes, 8, 4);
  const compatibleBrands: string[] = [];
  for (let offset = 16; offset + 4 <= ftypSize; offset += 4) compatibleBrands.push(readAscii(bytes, offset, 4));
  const format = classifyBrands({ majorBrand, compatibleBrands });
  if (typeof format !== 'object') return fail(format);

  const topLevel = readIsoBoxes({ bytes, start: 0, end: bytes.length, parent: 'file' });
  if (typeof topLevel === 'string') return fail(topLevel);
  const meta = topLevel.find((box) => box.type === 'meta');
  if (meta === undefined) return fail(`${format.label}: no meta box (not a still image, or truncated)`);
  // meta is a FullBox: four bytes of version and flags come before its children.
  if (meta.end - meta.contentStart < 4) return fail(`corrupted ${format.label}: meta box is too short`);
  const metaChildren = readIsoBoxes({ bytes, start: meta.contentStart + 4, end: meta.end, parent: 'meta' });
  if (typeof metaChildren === 'string') return fail(metaChildren);

  const iprp = metaChildren.find((box) => box.type === 'iprp');
  const iprpChildren = iprp === undefined ? [] : readIsoBoxes({ bytes, start: iprp.contentStart, end: iprp.end, parent: 'iprp' });
  if (typeof iprpChildren === 'string') return fail(iprpChildren);
  const ipco = iprpChildren.find((box) => box.type === 'ipco');
  const properties = ipco === undefined ? [] : readIsoBoxes({ bytes, start: ipco.contentStart, end: ipco.end, parent: 'ipco' });
  if (typeof properties === 'string') return fail(properties);

  const locationProblem = checkItemLocations({ bytes, metaChildren, label: format.label });
  if (locationProblem !== undefined) return fail(locationProblem);

  const dimensions = findPrimaryImageDimensions({ bytes, metaChildren, iprpChildren, properties });
  return succeed({ format: format.format, width: dimensions.width, height: dimensions.height });
}

function classifyBrands(options: {
  majorBrand: string;
  compatibleBrands: readonly string[];
}): { format: 'heic' | 'heif'; label: string } | string {
  const { majorBrand, compatibleBrands } = options;
  const heic = { format: 'heic', label: 'HEIC' } as const;
  const heif = { format: 'heif', label: 'HEIF' } as const;
  const avifReason = 'unsupported image format: AVIF';
  if (HEIC_BRANDS.has(majorBrand)) return heic;
  if (AVIF_BRANDS.has(majorBrand)) return avifReason;
  const hasCompatible = (brands: ReadonlySet<string>): boolean => compatibleBrands.some((brand) => brands.has(brand));
  if (hasCompatible(HEIC_BRANDS)) return heic;
  if (hasCompatible(AVIF_BRANDS)) return avifReason;
  if (HEIF_BRANDS.has(majorBrand) || hasCompatible(HEIF_BRANDS)) return heif;
  return `not an image (looks like an MP4/QuickTime media file, brand ${describeFourCc(majorBrand)})`;
}

function readIsoBoxes(options: { bytes: Uint8Array; start: number; end: number; parent: string }): IsoBox[] | string {
  const { bytes, start, end, parent } = options;
  const boxes: IsoBox[] = [];
  let offset = start;
  while (offset < end) {
    if (end - offset < 8) return `truncated HEIF: incomplete box header in ${parent} at byte ${offset}`;
    const type = readAscii(bytes, offset + 4, 4);
    let size = readUint32BigEndian(bytes, offset);
    let headerSize = 8;
    if (size === 1) {
      if (end - offset < 16) return `truncated HEIF: incomplete box header in ${parent} at byte ${offset}`;
      size = readUint32BigEndian(bytes, offset + 8) * 2 ** 32 + readUint32BigEndian(bytes, offset + 12);
      headerSize = 16;
    } else if (size === 0) {
      size = end - offset;
    }
    if (size < headerSize) return `corrupted HEIF: box ${describeFourCc(type)} has an invalid size`;
    if (offset + size > end) return `truncated HEIF: box ${describeFourCc(type)} runs past the end of ${parent}`;
    boxes.push({ type, contentStart: offset + headerSize, end: offset + size });
    offset += size;
  }
  return boxes;
}

// Item data lives outside the boxes (usually in mdat), so a file cut at a box boundary is only caught here.
function checkItemLocations(options: { bytes: Uint8Array; metaChildren: readonly IsoBox[]; label: string }): string | undefined {
  const { bytes, metaChildren, label } = options;
  const iloc = metaChildren.find((box) => box.type === 'iloc');
  if (iloc === undefined) return undefined;
  const idat = metaChildren.find((box) => box.type === 'idat');
  const malformed = `corrupted ${label}: malformed item location (iloc) box`;
  const end = iloc.end;
  let offset = iloc.contentStart;
  if (offset + 6 > end) return malformed;
  const version = readUint8(bytes, offset);
  if (version > 2) return malformed;
  const offsetSize = readUint8(bytes, offset + 4) >> 4;
  const lengthSize = readUint8(bytes, offset + 4) & 0x0f;
  const baseOffsetSize = readUint8(bytes, offset + 5) >> 4;
  const indexSize = version === 0 ? 0 : readUint8(bytes, offset + 5) & 0x0f;
  if (![offsetSize, lengthSize, baseOffsetSize, indexSize].every((size) => size === 0 || size === 4 || size === 8)) return malformed;
  offset += 6;
  const idSize = version < 2 ? 2 : 4;
  if (offset + idSize > end) return malformed;
  const itemCount = readSizedUint(bytes, offset, idSize);
  offset += idSize;

  for (let item = 0; item < itemCount; item++) {
    if (offset + idSize > end) return malformed;
    const itemId = readSizedUint(bytes, offset, idSize);
    offset += idSize;
    let constructionMethod = 0;
    if (version >= 1) {
      if (offset + 2 > end) return malformed;
      constructionMethod = readUint16BigEndian(bytes, offset) & 0x0f;
      offset += 2;
    }
    if (offset + 2 + baseOffsetSize + 2 > end) return malformed;
    const dataReferenceIndex = readUint16BigEndian(bytes, offset);
    const baseOffset = readSizedUint(bytes, offset + 2, baseOffsetSize);
    const extentCount = readUint16BigEndian(bytes, offset + 2 + baseOffsetSize);
    offset += 2 + baseOffsetSize + 2;
    for (let extent = 0; extent < extentCount; extent++) {
      if (offset + indexSize + offsetSize + lengthSize > end) return malformed;
      const extentOffset = readSizedUint(bytes, offset + indexSize, offsetSize);
      const extentLength = readSizedUint(bytes, offset + indexSize + offsetSize, lengthSize);
      offset += indexSize + offsetSize + lengthSize;
      // Data in other files (data references) or built from other items cannot be checked from here.
      if (dataReferenceIndex !== 0 || constructionMethod === 2) continue;
      const start = baseOffset + extentOffset;
      if (constructionMethod === 0) {
        if (start + extentLength > bytes.length) return `truncated ${label}: data of item ${itemId} runs past the end of the file`;
      } else if (constructionMethod === 1) {
        const idatSize = idat === undefined ? 0 : idat.end - idat.contentStart;
        if (start + extentLength > idatSize) return `corrupted ${label}: data of item ${itemId} runs past its idat box`;
      } else {
        return malformed;
      }
    }
  }
  return undefined;
}

// Prefers the primary item's own ispe (HEIC photos are usually grids of small tiles, each with its own ispe);
// falls back to the largest ispe, which is the full image when the association boxes are missing or unusual.
function findPrimaryImageDimensions(options: {
  bytes: Uint8Array;
  metaChildren: readonly IsoBox[];
  iprpChildren: readonly IsoBox[];
  properties: readonly IsoBox[];
}): { width: number; height: number } {
  const { bytes, metaChildren, iprpChildren, properties } = options;
  const readSpatialExtent = (box: IsoBox | undefined): { width: number; height: number } | undefined => {
    if (box === undefined || box.type !== 'ispe' || box.end - box.contentStart < 12) return undefined;
    return { width: readUint32BigEndian(bytes, box.contentStart + 4), height: readUint32BigEndian(bytes, box.contentStart + 8) };
  };

  const primaryItemId = readPrimaryItemId({ bytes, metaChildren });
  const ipma = iprpChildren.find((box) => box.type === 'ipma');
  if (primaryItemId !== undefined && ipma !== undefined) {
    for (const propertyIndex of readItemPropertyIndexes({ bytes, ipma, itemId: primaryItemId })) {
      const extent = readSpatialExtent(properties[propertyIndex - 1]);
      if (extent !== undefined) return extent;
    }
  }
  let largest = { width: 0, height: 0 };
  for (const property of properties) {
    const extent = readSpatialExtent(property);
    if (extent !== undefined && extent.width * extent.height > largest.width * largest.height) largest = extent;
  }
  return largest;
}

function readPrimaryItemId(options: { bytes: Uint8Array; metaChildren: readonly IsoBox[] }): number | undefined {
  const { bytes, metaChildren } = options;
  const pitm = metaChildren.find((box) => box.type === 'pitm');
  if (pitm === undefined) return undefined;
  const idSize = readUint8(bytes, pitm.contentStart) === 0 ? 2 : 4;
  if (pitm.contentStart + 4 + idSize > pitm.end) return undefined;
  return readSizedUint(bytes, pitm.contentStart + 4, idSize);
}

// Returns the 1-based ipco indexes associated with one item; stops quietly at malformed data.
function readItemPropertyIndexes(options: { bytes: Uint8Array; ipma: IsoBox; itemId: number }): number[] {
  const { bytes, ipma, itemId } = options;
  const end = ipma.end;
  let offset = ipma.contentStart;
  if (offset + 8 > end) return [];
  const version = readUint8(bytes, offset);
  const wideIndexes = (readUint8(bytes, offset + 3) & 1) === 1;
  const entryCount = readUint32BigEndian(bytes, offset + 4);
  offset += 8;
  const idSize = version < 1 ? 2 : 4;
  const associationSize = wideIndexes ? 2 : 1;
  for (let entry = 0; entry < entryCount; entry++) {
    if (offset + idSize + 1 > end) return [];
    const entryItemId = readSizedUint(bytes, offset, idSize);
    const associationCount = readUint8(bytes, offset + idSize);
    offset += idSize + 1;
    if (offset + associationCount * associationSize > end) return [];
    if (entryItemId === itemId) {
      const indexes: number[] = [];
      for (let association = 0; association < associationCount; association++) {
        const value = readSizedUint(bytes, offset + association * associationSize, associationSize);
        // The top bit marks the property as essential; the rest is the index.
        indexes.push(wideIndexes ? value & 0x7fff : value & 0x7f);
      }
      return indexes;
    }
    offset += associationCount * associationSize;
  }
  return [];
}
