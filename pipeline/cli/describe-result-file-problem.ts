import { open, stat } from 'node:fs/promises';
import { isRecord } from '../../schemas/is-record.ts';

/** How much of the file is read to judge it: enough for a typical first line, never a 40 MB one whole. */
const headBytes = 64 * 1024;

/** Files people hand to `extract` by mistake, known by their first bytes. */
const knownSignatures: readonly { bytes: readonly number[]; name: string }[] = [
  { bytes: [0x89, 0x50, 0x4e, 0x47], name: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], name: 'a JPEG image' },
  { bytes: [0x47, 0x49, 0x46, 0x38], name: 'a GIF image' },
  { bytes: [0x52, 0x49, 0x46, 0x46], name: 'a RIFF file (a WebP image?)' },
  { bytes: [0x25, 0x50, 0x44, 0x46], name: 'a PDF' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], name: 'a zip archive (unpack it first)' },
  { bytes: [0x1f, 0x8b], name: 'gzip-compressed (unpack it first, e.g. with gunzip)' },
];

function describeStart(head: Buffer): string {
  const known = knownSignatures.find((signature) => signature.bytes.every((byte, index) => head[index] === byte));
  if (known) return `it is ${known.name}`;
  return `it starts with ${JSON.stringify(head.subarray(0, 16).toString('latin1'))}, not with a JSON object`;
}

/** The first line of the head (without a BOM or a CR), or nothing when the head holds no whole line. */
function readFirstLine(head: Buffer, wholeFile: boolean): string | undefined {
  const text = head.toString('utf8').replace(/^\uFEFF/, '').replace(/^\s*\n/, '');
  const end = text.indexOf('\n');
  if (end === -1) return wholeFile ? text : undefined;
  return text.slice(0, end).replace(/\r$/, '');
}

/**
 * One line on why `given` is not a batch result file (JSONL: one JSON object per line, each with `key` and `response`
 * or `error`), or nothing when it looks like one. Only the first line is judged; the reader judges every line after.
 */
export async function describeResultFileProblem(options: { path: string; given: string }): Promise<string | undefined> {
  const { given } = options;
  const found = await stat(options.path).catch(() => undefined);
  if (!found) return `${given}: no such file. Give the path of a batch result file (JSONL), e.g. one downloaded from AI Studio.`;
  if (found.isDirectory()) return `${given}: a folder, not a file. Give the path of the result file (JSONL) in it.`;
  if (found.size === 0) return `${given}: empty. A batch result file holds one JSON line per request.`;
  const handle = await open(options.path, 'r');
  const head = Buffer.alloc(Math.min(headBytes, found.size));
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const notJsonl = `${given}: not a JSONL result file`;
  if (!/^(\uFEFF)?\s*\{/.test(head.subarray(0, 64).toString('utf8'))) return `${notJsonl}: ${describeStart(head)}.`;
  const line = readFirstLine(head, head.length === found.size);
  if (line === undefined) return undefined;
  let first: unknown;
  try {
    first = JSON.parse(line);
  } catch {
    return `${notJsonl}: its first line is not a JSON object of its own (a result file has one object per line; pretty-printed JSON is not one).`;
  }
  if (isRecord(first) && 'request' in first && !('response' in first) && !('error' in first)) {
    return `${given}: a batch request file (its lines hold "request"), not a result file: give the file the finished job wrote.`;
  }
  return undefined;
}
