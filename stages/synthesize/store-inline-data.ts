import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRecord } from '../../schemas/is-record.ts';
import type { BlobReference } from './core/choose-image.ts';

export function blobPath(options: { blobDirectory: string; blob: BlobReference }): string {
  return join(options.blobDirectory, options.blob.sha256);
}

async function storeBlob(options: { blobDirectory: string; bytes: Buffer }): Promise<BlobReference> {
  const sha256 = createHash('sha256').update(options.bytes).digest('hex');
  await mkdir(options.blobDirectory, { recursive: true });
  const temporary = join(options.blobDirectory, `.${sha256}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, options.bytes);
    await rename(temporary, join(options.blobDirectory, sha256));
  } finally {
    await rm(temporary, { force: true });
  }
  return { sha256, bytes: options.bytes.length };
}

function isInlineDataKey(key: string): boolean {
  return key === 'inlineData' || key === 'inline_data';
}

function isSignatureKey(key: string): boolean {
  return key === 'thoughtSignature' || key === 'thought_signature';
}

/**
 * A generateContent answer (sync mode) carries its images and their thought signatures as base64 in memory; they go
 * to the blob folder and the response keeps `inlineData.blob` and `thoughtSignature.blob` instead, the same shape the
 * streaming batch reader produces, so the result cache never holds image bytes or megabyte-sized signatures.
 */
export async function storeInlineData(options: { blobDirectory: string; response: Record<string, unknown> }): Promise<Record<string, unknown>> {
  async function visit(value: unknown, parentKey: string): Promise<unknown> {
    if (isSignatureKey(parentKey) && typeof value === 'string') {
      return { blob: await storeBlob({ blobDirectory: options.blobDirectory, bytes: Buffer.from(value, 'base64') }) };
    }
    if (Array.isArray(value)) return Promise.all(value.map((entry) => visit(entry, '')));
    if (!isRecord(value)) return value;
    if (isInlineDataKey(parentKey) && typeof value['data'] === 'string') {
      const { data, ...rest } = value;
      return { ...rest, blob: await storeBlob({ blobDirectory: options.blobDirectory, bytes: Buffer.from(data, 'base64') }) };
    }
    const copy: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value)) {
      Object.defineProperty(copy, key, { value: await visit(entry, key), enumerable: true, writable: true, configurable: true });
    }
    return copy;
  }
  return (await visit(options.response, '')) as Record<string, unknown>;
}
