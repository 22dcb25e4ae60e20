import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { computeFileCrc32c } from '../crc32c.ts';

/**
 * What a cut download leaves beside its `.part` so that the next attempt can go on with `Range: bytes=N-`: whose bytes
 * they are, and what the whole file was said to be, so that a changed file is never continued.
 */
const partValidatorSchema = z.strictObject({
  fileName: z.string().min(1),
  /** The decoded size, when the answer said it (a plain answer's content-length, or a Content-Range's total). */
  expectedBytes: z.number().int().min(0).nullable(),
  /** `X-Goog-Hash: crc32c=…` of the whole file, when served. */
  crc32c: z.string().nullable(),
  etag: z.string().nullable(),
});
export type PartValidator = z.infer<typeof partValidatorSchema>;

export interface PartialDownload {
  validator: PartValidator;
  /** Bytes already in the `.part` file. */
  bytes: number;
}

export function partPath(destination: string): string {
  return `${destination}.part`;
}

function validatorPath(destination: string): string {
  return `${destination}.part.json`;
}

/** Forgets a partial download: the part and its validator. */
export async function removePartialDownload(destination: string): Promise<void> {
  await rm(partPath(destination), { force: true });
  await rm(validatorPath(destination), { force: true });
}

/**
 * The partial download of `fileName` at `destination`, if one can be continued; anything else found there (another
 * file's part, an unreadable validator, a part longer than its file) is removed.
 */
export async function readPartialDownload(options: { destination: string; fileName: string }): Promise<PartialDownload | undefined> {
  const text = await readFile(validatorPath(options.destination), 'utf8').catch(() => undefined);
  const part = await stat(partPath(options.destination)).catch(() => undefined);
  let parsed: PartValidator | undefined;
  try {
    parsed = text === undefined ? undefined : partValidatorSchema.parse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  const usable = parsed !== undefined && part !== undefined && parsed.fileName === options.fileName && (parsed.expectedBytes === null || part.size <= parsed.expectedBytes);
  if (!usable) {
    if (text !== undefined || part !== undefined) await removePartialDownload(options.destination);
    return undefined;
  }
  return { validator: parsed!, bytes: part!.size };
}

/** Written before the first byte of the part, so a part on disk always has its validator. */
export async function writePartValidator(options: { destination: string; validator: PartValidator }): Promise<void> {
  await writeFile(validatorPath(options.destination), `${JSON.stringify(options.validator)}\n`);
}

/** The CRC-32C of the part's bytes, to go on with while the rest arrives. */
export async function computePartCrc32c(destination: string): Promise<number> {
  return computeFileCrc32c(partPath(destination));
}
