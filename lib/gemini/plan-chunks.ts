import { createHash } from 'node:crypto';
import { splitIntoChunks } from '../split-into-chunks.ts';
import type { RequestLine } from './line-outcome.ts';

export function fingerprintChunk(options: { model: string; keys: readonly string[] }): string {
  return createHash('sha256').update(`${options.model}\n${[...options.keys].sort().join('\n')}`).digest('hex');
}

/** A deterministic name: the same chunk of the same workspace always gets it, so a lost job can be found by it. */
export function formatDisplayName(options: { workspaceId: string; stage: string; fingerprint: string; attempt: number }): string {
  return `chargen-${options.workspaceId}-${options.stage}-${options.fingerprint.slice(0, 16)}-${options.attempt}`;
}

/** Splits lines into chunks that respect both the line and the byte limit (a line's bytes as in the JSONL file). */
export function planChunks(options: { lines: readonly RequestLine[]; maxLines: number; maxBytes: number }): RequestLine[][] {
  return splitIntoChunks({
    items: options.lines,
    maxItems: options.maxLines,
    maxBytes: options.maxBytes,
    sizeOf: (line) => Buffer.byteLength(JSON.stringify({ key: line.key, request: line.request })) + 1,
  });
}
