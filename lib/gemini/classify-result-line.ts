import { isRecord } from '../../schemas/is-record.ts';

/** One line of a batch result file, as far as the executor needs to know it. */
export type ResultLine =
  | { kind: 'response'; key: string; response: Record<string, unknown>; lineNumber?: number }
  | { kind: 'error'; key: string; error: unknown; lineNumber?: number }
  | { kind: 'unreadable'; lineNumber: number; problem: string; key?: string };

/** What a whole line says, the one rule for both readers (readResultLines, and the streaming parser): a response, an error, or why it is unreadable. */
export function classifyResultLine(options: { root: unknown; lineNumber: number }): ResultLine {
  const { root, lineNumber } = options;
  if (!isRecord(root) || typeof root['key'] !== 'string' || root['key'] === '') {
    return { kind: 'unreadable', lineNumber, problem: 'no string "key"' };
  }
  const key = root['key'];
  const failure = root['error'] ?? root['status'];
  if (failure !== undefined && failure !== null) return { kind: 'error', key, error: failure, lineNumber };
  const response = root['response'];
  if (isRecord(response)) return { kind: 'response', key, response, lineNumber };
  return { kind: 'unreadable', lineNumber, key, problem: 'neither a "response" object nor an "error"' };
}
