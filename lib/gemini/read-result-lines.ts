import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { classifyResultLine, type ResultLine } from './classify-result-line.ts';

export type { ResultLine };

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
    yield classifyResultLine({ root: parsed, lineNumber });
  }
}
