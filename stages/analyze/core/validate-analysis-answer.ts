import type { ResponseVerdict } from '../../../lib/gemini/line-outcome.ts';
import { isRecord } from '../../../schemas/is-record.ts';
import { analysisRecordSchema, type AnalysisRecord } from '../../../schemas/analysis.ts';
import { formatZodIssues } from '../../../schemas/format-zod-issues.ts';

/** The answer's text: every non-thought text part of the first candidate. */
export function readAnswerText(response: Record<string, unknown>): string {
  const candidates = Array.isArray(response['candidates']) ? response['candidates'] : [];
  const first = candidates[0];
  const content = isRecord(first) && isRecord(first['content']) ? first['content'] : undefined;
  const parts = content && Array.isArray(content['parts']) ? content['parts'] : [];
  return parts
    .filter((part): part is Record<string, unknown> => isRecord(part) && part['thought'] !== true && typeof part['text'] === 'string')
    .map((part) => part['text'] as string)
    .join('');
}

export type ParsedAnalysis = { ok: true; record: AnalysisRecord } | { ok: false; reason: string };

/** Parses and validates an answer; an answer that is not JSON or breaks the schema says why. */
export function parseAnalysisAnswer(response: Record<string, unknown>): ParsedAnalysis {
  const text = readAnswerText(response);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: `the answer is not JSON (it starts: ${JSON.stringify(text.slice(0, 60))})` };
  }
  const result = analysisRecordSchema.safeParse(parsed);
  if (!result.success) return { ok: false, reason: `the answer breaks the AnalysisRecord schema (${formatZodIssues(result.error.issues)})` };
  return { ok: true, record: result.data };
}

/** For the Gemini layer: a bad answer is a retryable failure (the model may do better next time). */
export function validateAnalysisAnswer(response: Record<string, unknown>): ResponseVerdict {
  return toAnalysisVerdict(parseAnalysisAnswer(response));
}

export function toAnalysisVerdict(parsed: ParsedAnalysis): ResponseVerdict {
  return parsed.ok ? { ok: true } : { ok: false, reason: parsed.reason, retryable: true };
}
