import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { inlineBodyLimitBytes, type RecordedBody } from './cassette-schema.ts';
import { encodeInlineBody } from './encode-inline-body.ts';

export interface BodyCollector {
  write(chunk: Buffer): Promise<void>;
  /** The body as the cassette records it; a large one is now in `bodies/<sha256>`. */
  finish(): Promise<RecordedBody>;
  /** Drops what was written (the interaction failed). */
  discard(): Promise<void>;
}

/**
 * Collects a body that may be large without holding it in memory: small bodies stay in memory and are inlined,
 * and once a body passes the inline limit it spills to a temporary file that is renamed to its sha256 at the end
 * (so identical bodies share one file).
 */
export function createBodyCollector(options: { bodiesDirectory: string; allowJson: boolean }): BodyCollector {
  const hash = createHash('sha256');
  let size = 0;
  let buffered: Buffer[] = [];
  let spill: { stream: WriteStream; path: string } | undefined;
  let spillError: unknown;

  const writeToSpill = async (stream: WriteStream, chunk: Buffer) => {
    if (spillError !== undefined) throw spillError;
    if (!stream.write(chunk)) await once(stream, 'drain');
  };

  return {
    async write(chunk) {
      if (chunk.length === 0) return;
      hash.update(chunk);
      size += chunk.length;
      if (spill !== undefined) {
        await writeToSpill(spill.stream, chunk);
        return;
      }
      buffered.push(chunk);
      if (size <= inlineBodyLimitBytes) return;
      await mkdir(options.bodiesDirectory, { recursive: true });
      const path = join(options.bodiesDirectory, `.incoming-${randomBytes(8).toString('hex')}`);
      spill = { stream: createWriteStream(path), path };
      // Kept for the next write or finish to throw: an 'error' nobody listens to would end the process.
      spill.stream.on('error', (error) => {
        spillError = error;
      });
      const pending = buffered;
      buffered = [];
      for (const piece of pending) await writeToSpill(spill.stream, piece);
    },
    async finish() {
      if (spill === undefined) return encodeInlineBody({ bytes: Buffer.concat(buffered), allowJson: options.allowJson });
      spill.stream.end();
      await finished(spill.stream);
      const sha256 = hash.digest('hex');
      await rename(spill.path, join(options.bodiesDirectory, sha256));
      return { encoding: 'file', sha256, bytes: size };
    },
    async discard() {
      buffered = [];
      if (spill === undefined) return;
      spill.stream.destroy();
      await rm(spill.path, { force: true });
    },
  };
}

/** The same as collecting one buffer, for bodies that are already whole in memory (requests). */
export async function storeBody(options: { bodiesDirectory: string; allowJson: boolean; bytes: Buffer }): Promise<RecordedBody> {
  if (options.bytes.length <= inlineBodyLimitBytes) return encodeInlineBody(options);
  const collector = createBodyCollector(options);
  await collector.write(options.bytes);
  return collector.finish();
}
