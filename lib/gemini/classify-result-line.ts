import { z } from 'zod';
import { isRecord } from '../../schemas/is-record.ts';
import { readKeyFromLabels } from './request-key-labels.ts';

/** One line of a batch result file, as far as the executor needs to know it. */
export type ResultLine =
  | { kind: 'response'; key: string; response: Record<string, unknown>; lineNumber?: number }
  | { kind: 'error'; key: string; error: unknown; lineNumber?: number }
  | {
      kind: 'unreadable';
      lineNumber: number;
      problem: string;
      key?: string;
      /** A whole line without a key that echoes its request (Vertex AI, labels lost): it may still be matched by it. */
      keyless?: Record<string, unknown>;
    };

/** The line's key: beside its answer on the Gemini API, in the echoed request's labels on Vertex AI. */
export function readResultLineKey(root: Record<string, unknown>): string | undefined {
  if (typeof root['key'] === 'string' && root['key'] !== '') return root['key'];
  return readKeyFromLabels(root['request']);
}

const envelopeSchema = z.object({ error: z.object({ code: z.number().optional(), message: z.string().optional(), status: z.string().optional() }) });

/**
 * A Vertex AI line's `status` text as an error record: the HTTP reason, then the error envelope (`Bad Request: {"error":
 * {"code": 400, …}}`, Google's documented example); text that holds no envelope is kept as the message.
 */
function readStatusText(text: string): Record<string, unknown> {
  const start = text.indexOf('{');
  if (start >= 0) {
    try {
      const parsed = envelopeSchema.safeParse(JSON.parse(text.slice(start)));
      if (parsed.success) return parsed.data.error;
    } catch {
      // Not JSON after all: the text itself is the reason.
    }
  }
  return { message: text };
}

/** What a whole line says, the one rule for both readers (readResultLines, and the streaming parser): a response, an error, or why it is unreadable. */
export function classifyResultLine(options: { root: unknown; lineNumber: number }): ResultLine {
  const { root, lineNumber } = options;
  const key = isRecord(root) ? readResultLineKey(root) : undefined;
  if (!isRecord(root) || key === undefined) {
    return { kind: 'unreadable', lineNumber, problem: 'no string "key"', ...(isRecord(root) && isRecord(root['request']) ? { keyless: root } : {}) };
  }
  // Vertex AI writes `"status": ""` on every answered line; a failure's status is text.
  const failure = root['error'] ?? (root['status'] === '' ? undefined : root['status']);
  if (failure !== undefined && failure !== null) return { kind: 'error', key, error: typeof failure === 'string' ? readStatusText(failure) : failure, lineNumber };
  const response = root['response'];
  if (isRecord(response)) return { kind: 'response', key, response, lineNumber };
  return { kind: 'unreadable', lineNumber, key, problem: 'neither a "response" object nor an "error"' };
}
