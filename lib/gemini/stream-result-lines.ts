import { mkdir, open } from 'node:fs/promises';
import { createInlineBlobHasher } from './blob-hasher.ts';
import { BlobSink } from './blob-sink.ts';
import type { ResultLine, ResultLineReader } from './read-result-lines.ts';
import { ResultLineParser } from './result-line-parser.ts';

export interface StreamingReaderOptions {
  /** Where decoded inlineData bytes go, as `<blobDirectory>/<sha256>` (hex, no extension). Created if missing. */
  blobDirectory: string;
  /** Cap on the bytes of one line outside inlineData.data strings (text, metadata); default 16 MiB. Over it: the line is unreadable, the reader goes on. */
  maxLineTextBytes?: number;
  /** Read chunk size (default 1 MiB); tests set it tiny to split tokens everywhere. */
  chunkBytes?: number;
}

const defaultMaxLineTextBytes = 16 * 1024 * 1024;
const defaultChunkBytes = 1024 * 1024;

/** Reads the file chunk by chunk into the parser, writes its image bytes through the sink, and yields each line once its images are kept. */
async function* readStreamingResultLines(options: { path: string; blobDirectory: string; maxLineTextBytes: number; chunkBytes: number }): AsyncIterable<ResultLine> {
  await mkdir(options.blobDirectory, { recursive: true });
  const file = await open(options.path, 'r');
  const hasher = createInlineBlobHasher();
  const sink = new BlobSink({ directory: options.blobDirectory, hasher });
  const parser = new ResultLineParser({ maxLineTextBytes: options.maxLineTextBytes });
  try {
    const chunk = Buffer.allocUnsafe(options.chunkBytes);
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      const events = bytesRead === 0 ? parser.finish() : parser.parseChunk(chunk.subarray(0, bytesRead));
      for (const event of events) {
        if (event.type !== 'line') {
          await sink.apply(event);
          continue;
        }
        // A whole line without its key may still be matched by its echoed request (collect-result-file.ts): kept.
        if (event.result.kind === 'unreadable' && event.result.keyless === undefined) await sink.discard();
        else await sink.keep();
        yield event.result;
      }
      if (bytesRead === 0) break;
    }
  } finally {
    await sink.discard();
    await hasher.close();
    await file.close();
  }
}

/**
 * A result reader for files too large for lines to be strings: images (inlineData / inline_data `data`) are decoded
 * straight to `<blobDirectory>/<sha256>` as their bytes arrive and replaced by `blob: { sha256, bytes }`; the rest of
 * each line is parsed incrementally, with the same verdicts as readResultLines. A broken line is reported and the
 * reader picks up at the next one.
 */
export function createStreamingResultReader(options: StreamingReaderOptions): ResultLineReader {
  const maxLineTextBytes = options.maxLineTextBytes ?? defaultMaxLineTextBytes;
  const chunkBytes = options.chunkBytes ?? defaultChunkBytes;
  if (!Number.isSafeInteger(maxLineTextBytes) || maxLineTextBytes < 1) throw new RangeError(`maxLineTextBytes must be a positive integer, not ${maxLineTextBytes}`);
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive integer, not ${chunkBytes}`);
  return (path) => readStreamingResultLines({ path, blobDirectory: options.blobDirectory, maxLineTextBytes, chunkBytes });
}
