import sharp from 'sharp';

/**
 * The C2PA manifest store's JUMBF superbox, carried in APP11 segments as real Gemini 3 Pro Image answers carry it
 * (JFIF APP0 first, then `FF EB … 'JP'`: pydantic-ai's recorded gemini-3-pro-image answer, 2026-07-29). The emulator
 * writes a small, fixed one: enough for a reader to meet the segment, nothing it could verify.
 */
function createC2paSegment(): Buffer {
  const label = Buffer.from('c2pa\0', 'latin1');
  // The JUMBF description box: the C2PA type UUID, toggles "label present, requestable", the label.
  const c2paUuid = Buffer.from('6332706100110010800000aa00389b71', 'hex');
  const descriptionBody = Buffer.concat([c2paUuid, Buffer.from([0x03]), label]);
  const descriptionBox = Buffer.concat([uint32(8 + descriptionBody.length), Buffer.from('jumd', 'latin1'), descriptionBody]);
  const superBox = Buffer.concat([uint32(8 + descriptionBox.length), Buffer.from('jumb', 'latin1'), descriptionBox]);
  // APP11 payload: the JPEG-XT common identifier 'JP', box instance 1, packet sequence 1, then the box.
  const payload = Buffer.concat([Buffer.from('JP', 'latin1'), Buffer.from([0x00, 0x01]), uint32(1), superBox]);
  return Buffer.concat([Buffer.from([0xff, 0xeb]), uint16(payload.length + 2), payload]);
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

function uint16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

/** JFIF APP0 as the recorded answers have it: version 1.1, 300 dots per inch, no thumbnail. */
const jfifSegment = Buffer.from('ffe000104a46494600010101012c012c0000', 'hex');

/** A JPEG comment (COM) segment holding `text`. */
function createCommentSegment(text: string): Buffer {
  const payload = Buffer.from(text, 'latin1');
  return Buffer.concat([Buffer.from([0xff, 0xfe]), uint16(payload.length + 2), payload]);
}

/**
 * A JPEG of the picture in `png` that begins as Gemini 3 image models' answers do: SOI, JFIF APP0, then the C2PA
 * APP11 segment (libvips writes neither, so both are put in front of its segments); `comment`, when given, follows
 * in a COM segment (the emulator's note of what the image was made from).
 */
export async function convertPngToJpeg(png: Buffer, comment?: string): Promise<Buffer> {
  const jpeg = await sharp(png).jpeg({ quality: 90 }).toBuffer();
  const hasJfif = jpeg[2] === 0xff && jpeg[3] === 0xe0;
  const afterHeader = hasJfif ? 4 + jpeg.readUInt16BE(4) : 2;
  const note = comment === undefined ? [] : [createCommentSegment(comment)];
  return Buffer.concat([jpeg.subarray(0, 2), hasJfif ? jpeg.subarray(2, afterHeader) : jfifSegment, createC2paSegment(), ...note, jpeg.subarray(afterHeader)]);
}
