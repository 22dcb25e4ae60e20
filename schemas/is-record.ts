/** A JSON object (not an array, not null): what untrusted JSON must be before its fields are read. */
export function isRecord(input: unknown): input is Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input);
}
