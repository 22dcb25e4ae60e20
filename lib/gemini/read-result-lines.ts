import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { isRecord } from '../../schemas/is-record.ts';

/** One line of a batch result file, as far as the executor needs to know it. */
export type ResultLine =
  | { kind: 'response'; key: string; response: Record<string, unknown>; lineNumber?: number }
  | { kind: 'error'; key: string; error: unknown; lineNumber?: number }
  | { kind: 'unreadable'; lineNumber: number; problem: string; key?: string };

export type ResultLineReader = (path: string) => AsyncIterable<ResultLine>;


/**
 * Reads a result file line by line (CRLF or LF, last line with or without a newline). Results are untrusted input:
 * a line that is not JSON, has no string key, or has neither a response nor an error is reported, not thrown.
 * Errors may come as `error` or `status`.
 */
export async function* readResultLines(path: string): AsyncIterable<ResultLine> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  for await (const text of lines) {
    lineNumber += 1;
    if (text.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      yield { kind: 'unreadable', lineNumber, problem: 'not valid JSON' };
      continue;
    }
    if (!isRecord(parsed) || typeof parsed['key'] !== 'string' || parsed['key'] === '') {
      yield { kind: 'unreadable', lineNumber, problem: 'no string "key"' };
      continue;
    }
    const key = parsed['key'];
    const failure = parsed['error'] ?? parsed['status'];
    if (failure !== undefined && failure !== null) {
      yield { kind: 'error', key, error: failure, lineNumber };
    } else if (isRecord(parsed['response'])) {
      yield { kind: 'response', key, response: parsed['response'], lineNumber };
    } else {
      yield { kind: 'unreadable', lineNumber, key, problem: 'neither a "response" object nor an "error"' };
    }
  }
}
