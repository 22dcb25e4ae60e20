import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { rewriteFieldNames, type RequestProblem } from '../schemas/generate-content-request.ts';
import { isPlainObject } from './http-io.ts';
import { scanJsonLine } from './scan-json-line.ts';

export interface RequestFileCheck {
  /** Lines that are not blank: the job's request count. */
  requestCount: number;
  /** One `Error on line N: …` per line the parser refuses, in line order. */
  errors: string[];
}

/** The parser's wording for a field problem, and where in the line it points (0-based offset). */
function placeProblem(text: string, problem: RequestProblem): { offset: number; detail: string } {
  const scan = scanJsonLine(text);
  const position = scan.ok ? scan.locate(problem.path) : undefined;
  switch (problem.kind) {
    case 'no-such-field':
      return { offset: position?.key ?? 0, detail: `no such field: '${problem.field}'` };
    case 'set-twice':
      // Not seen on the real API: what it says of a field given in both spellings is unrecorded.
      return { offset: position?.key ?? 0, detail: `duplicate field: '${problem.field}' (also given as '${problem.otherSpelling}')` };
    case 'expected-object':
    case 'expected-list': {
      const offset = position?.value ?? 0;
      return { offset, detail: `unexpected character: '${text[offset] ?? ''}'; expected '${problem.kind === 'expected-object' ? '{' : '['}'` };
    }
  }
}

/** What the parser says of one line, or undefined when the line reads as a request. */
function checkLine(text: string): { offset: number; detail: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    const scan = scanJsonLine(text);
    return scan.ok ? { offset: 0, detail: 'not valid JSON' } : { offset: scan.offset, detail: scan.detail };
  }
  // The documented line is {"key", "request"}; the REST guide also shows bare requests, which are read as such.
  const keyed = !isPlainObject(value) || 'request' in value || 'key' in value;
  const read = rewriteFieldNames(value, { message: keyed ? 'BatchRequestLine' : 'GenerateContentRequest', casing: 'camel' });
  return read.ok ? undefined : placeProblem(text, read.problem);
}

/**
 * Reads a whole batch input file as `batches.create` does on the real API: synchronously, every line, before any job
 * exists. JSON syntax and field names (either casing) are checked here; a line that reads well but asks for something
 * wrong (an unknown file, a bad enum value) is answered later with an error line of its own. The message format is
 * recorded: "Error on line N: invalid JSON, near column C: <detail>", one per failing line joined by "\n"
 * (inspect_ai #3257: "no such field: 'thinking_config'"; #5100: "unexpected character: '['; expected '{'").
 * Columns are 1-based here; the real API's base is unknown.
 */
export async function validateRequestFile(input: Readable): Promise<RequestFileCheck> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const errors: string[] = [];
  let requestCount = 0;
  let lineNumber = 0;
  for await (const text of lines) {
    lineNumber += 1;
    if (text.trim() === '') continue;
    requestCount += 1;
    const problem = checkLine(text);
    if (problem) errors.push(`Error on line ${lineNumber}: invalid JSON, near column ${problem.offset + 1}: ${problem.detail}`);
  }
  return { requestCount, errors };
}
