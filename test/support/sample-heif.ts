// Byte builders for HEIF files (ISO base media boxes), shared by the image inspection tests and the UI tests that need
// a source a browser cannot show.

export function concatBytes(...parts: (Uint8Array | readonly number[] | string)[]): Uint8Array {
  const buffers = parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part)));
  return new Uint8Array(Buffer.concat(buffers));
}

export function uint16BigEndian(value: number): number[] {
  return [(value >> 8) & 0xff, value & 0xff];
}

export function uint32BigEndian(value: number): number[] {
  return [(value >>> 24) & 0xff, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
}

export function isoBox(type: string, ...payload: (Uint8Array | readonly number[] | string)[]): Uint8Array {
  const body = concatBytes(...payload);
  return concatBytes(uint32BigEndian(body.length + 8), type, body);
}

export function isoFullBox(type: string, ...payload: (Uint8Array | readonly number[] | string)[]): Uint8Array {
  return isoBox(type, [0, 0, 0, 0], ...payload);
}

export function buildHeif(options: {
  majorBrand: string;
  compatibleBrands: string[];
  extents?: { width: number; height: number }[];
  primaryPropertyIndex?: number;
  withAssociations?: boolean;
}): Uint8Array {
  const extents = options.extents ?? [];
  const mdatPayload = new Uint8Array(16).fill(0x42);
  const ftyp = isoBox('ftyp', options.majorBrand, [0, 0, 0, 0], ...options.compatibleBrands);
  const buildMeta = (dataOffset: number): Uint8Array => {
    const properties = extents.map((extent) => isoFullBox('ispe', uint32BigEndian(extent.width), uint32BigEndian(extent.height)));
    const associations = options.withAssociations === false || options.primaryPropertyIndex === undefined
      ? []
      : [isoFullBox('ipma', uint32BigEndian(1), uint16BigEndian(1), [1, 0x80 | options.primaryPropertyIndex])];
    return isoFullBox(
      'meta',
      isoFullBox('hdlr', [0, 0, 0, 0], 'pict', new Array<number>(12).fill(0), [0]),
      isoFullBox('pitm', uint16BigEndian(1)),
      // version 0, 4-byte offsets and lengths, no base offset: one item with one extent
      isoFullBox('iloc', [0x44, 0x00], uint16BigEndian(1), uint16BigEndian(1), uint16BigEndian(0), uint16BigEndian(1), uint32BigEndian(dataOffset), uint32BigEndian(mdatPayload.length)),
      isoBox('iprp', isoBox('ipco', ...properties), ...associations),
    );
  };
  const metaLength = buildMeta(0).length;
  const meta = buildMeta(ftyp.length + metaLength + 8);
  return concatBytes(ftyp, meta, isoBox('mdat', mdatPayload));
}
