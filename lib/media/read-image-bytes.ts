// Bounded readers: callers check lengths first; out-of-range bytes read as 0 rather than throwing.

export function readUint8(bytes: Uint8Array, offset: number): number {
  return bytes[offset] ?? 0;
}

export function readUint16BigEndian(bytes: Uint8Array, offset: number): number {
  return (readUint8(bytes, offset) << 8) | readUint8(bytes, offset + 1);
}

export function readUint32BigEndian(bytes: Uint8Array, offset: number): number {
  return readUint8(bytes, offset) * 0x1000000 + ((readUint8(bytes, offset + 1) << 16) | readUint16BigEndian(bytes, offset + 2));
}

export function readUint16LittleEndian(bytes: Uint8Array, offset: number): number {
  return readUint8(bytes, offset) | (readUint8(bytes, offset + 1) << 8);
}

export function readUint24LittleEndian(bytes: Uint8Array, offset: number): number {
  return readUint16LittleEndian(bytes, offset) | (readUint8(bytes, offset + 2) << 16);
}

export function readUint32LittleEndian(bytes: Uint8Array, offset: number): number {
  return readUint24LittleEndian(bytes, offset) + readUint8(bytes, offset + 3) * 0x1000000;
}

export function readSizedUint(bytes: Uint8Array, offset: number, size: number): number {
  if (size === 1) return readUint8(bytes, offset);
  if (size === 2) return readUint16BigEndian(bytes, offset);
  if (size === 4) return readUint32BigEndian(bytes, offset);
  if (size === 8) return readUint32BigEndian(bytes, offset) * 2 ** 32 + readUint32BigEndian(bytes, offset + 4);
  return 0;
}

export function readAscii(bytes: Uint8Array, offset: number, length: number): string {
  const end = Math.min(bytes.length, offset + length);
  let text = '';
  for (let index = Math.max(0, offset); index < end; index++) text += String.fromCharCode(readUint8(bytes, index));
  return text;
}

export function hasBytes(bytes: Uint8Array, offset: number, expected: readonly number[]): boolean {
  if (offset + expected.length > bytes.length) return false;
  return expected.every((value, index) => readUint8(bytes, offset + index) === value);
}

export function formatHex(value: number): string {
  return value.toString(16).padStart(2, '0');
}

export function describeFourCc(value: string): string {
  return JSON.stringify(value);
}
