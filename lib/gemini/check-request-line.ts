import {
  formatRequestPath,
  listFieldNames,
  rewriteFieldNames,
  type RequestProblem,
  type RewriteResult,
} from '../../schemas/generate-content-request.ts';
import type { Logger } from '../logger.ts';
import type { FailedOutcome, RequestLine } from './line-outcome.ts';

/** What to do about a request the API refuses as written: it is built from code and settings, never typed by hand. */
export const refusedRequestFix =
  'chargen built a request the Gemini API does not accept as written: if a setting in chargen.config.json put that field ' +
  'there (safety settings, image settings, thinking level), correct it; otherwise it is a chargen bug worth reporting.';

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The field, as the stage wrote it, and what the GenerateContentRequest message expects there. */
export function describeRequestProblem(problem: RequestProblem): string {
  const path = `'${formatRequestPath(['request', ...problem.path])}'`;
  switch (problem.kind) {
    case 'no-such-field':
      return `${path} is not a field of ${problem.message} (its fields: ${listFieldNames(problem.message).join(', ')})`;
    case 'set-twice':
      return `${path} is given twice, also as '${problem.otherSpelling}'`;
    case 'expected-object':
      return `${path} must be an object (a ${problem.message}), not ${describeValue(problem.got)}`;
    case 'expected-list':
      return `${path} must be a list of ${problem.message} objects, not ${describeValue(problem.got)}`;
  }
}

/**
 * The request as a batch line carries it: snake_case proto field names, the form every recorded successful JSONL
 * batch used (cookbook quickstarts/Batch_mode.ipynb, ellmer PR #926's real run, inspect_ai PR #3273), with map keys
 * and free-form values (schema property names, `responseJsonSchema`) untouched. `model` is left out: the batch names
 * it, and the API wants one model per batch (cookbook examples/Datasets.ipynb strips it from every line). Keys stay
 * hashes of the camelCase form the stages build, so no cached answer changes key.
 */
export function toWireRequest(request: Record<string, unknown>): RewriteResult {
  const rewritten = rewriteFieldNames(request, { message: 'GenerateContentRequest', casing: 'snake' });
  if (!rewritten.ok) return rewritten;
  const { model: _batchNamesTheModel, ...rest } = rewritten.value;
  return { ok: true, value: rest };
}

/**
 * Checks every line against the GenerateContentRequest shape before anything is sent, so that one bad line fails
 * alone instead of making `batches.create` refuse a chunk of thousands (it parses the whole file, inspect_ai #3257).
 * A bad line is a final failure naming the field; both executors use this, so both modes agree.
 */
export function separateMalformedLines(options: { lines: readonly RequestLine[]; stage: string; logger: Logger }): { wellFormed: RequestLine[]; refused: FailedOutcome[] } {
  const wellFormed: RequestLine[] = [];
  const refused: FailedOutcome[] = [];
  for (const line of options.lines) {
    const checked = toWireRequest(line.request);
    if (checked.ok) wellFormed.push(line);
    else refused.push({ key: line.key, status: 'failed', reason: `request not sent: ${describeRequestProblem(checked.problem)}`, retryable: false, fix: refusedRequestFix });
  }
  const first = refused[0];
  if (first) options.logger.warn(`${options.stage}: ${refused.length} request line(s) do not fit the GenerateContentRequest message and are not sent; the first: ${first.reason}`);
  return { wellFormed, refused };
}
