import { formatRequestPath, rewriteFieldNames, type RequestProblem } from '../schemas/generate-content-request.ts';
import { invalidArgument, type RpcStatus } from './api-error.ts';

/** model-routes reads the batch envelope's own fields with it. */
export { toCamelCase } from '../schemas/generate-content-request.ts';

/**
 * The ESF wording the real API uses for a request body it cannot read (python-genai#1103: `Unknown name
 * "thinkingConfig" at '...generation_config': Cannot find field.`), which is how it treats e.g. an SDK-style
 * `config` object in a JSONL line.
 */
function describeProblem(problem: RequestProblem): string {
  const path = formatRequestPath(problem.path);
  switch (problem.kind) {
    case 'no-such-field': {
      const at = formatRequestPath(problem.path.slice(0, -1));
      return `Invalid JSON payload received. Unknown name "${problem.field}"${at ? ` at '${at}'` : ''}: Cannot find field.`;
    }
    case 'set-twice':
      return `Invalid JSON payload received. Field '${path}' is set twice (camelCase and snake_case).`;
    case 'expected-object':
      return `Invalid JSON payload received. Expected an object for '${path}', got ${JSON.stringify(problem.got)}.`;
    case 'expected-list':
      return `Invalid JSON payload received. Expected a list for '${path}'.`;
  }
}

export interface NormalizedPart {
  text?: string;
  thought?: boolean;
  inlineData?: { mimeType?: string; data?: string };
  fileData?: { mimeType?: string; fileUri?: string };
  [field: string]: unknown;
}

export interface NormalizedRequest {
  model?: string;
  contents?: Array<{ role?: string; parts?: NormalizedPart[] }>;
  systemInstruction?: { role?: string; parts?: NormalizedPart[] };
  safetySettings?: Array<{ category?: string; threshold?: string; method?: string }>;
  generationConfig?: {
    responseMimeType?: string;
    responseSchema?: unknown;
    responseJsonSchema?: unknown;
    responseModalities?: unknown;
    candidateCount?: unknown;
    temperature?: unknown;
    thinkingConfig?: { includeThoughts?: unknown; thinkingBudget?: unknown; thinkingLevel?: unknown };
    imageConfig?: { aspectRatio?: unknown; imageSize?: unknown };
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export type NormalizeResult = { ok: true; request: NormalizedRequest } | { ok: false; error: RpcStatus };

/**
 * Reads a GenerateContentRequest the way proto-JSON parsing does (camelCase and snake_case alike, an unknown field
 * rejected), into the camelCase form the answers are computed from. The field table is shared with chargen
 * (schemas/generate-content-request.ts).
 */
export function normalizeRequest(input: unknown): NormalizeResult {
  const read = rewriteFieldNames(input, { message: 'GenerateContentRequest', casing: 'camel' });
  if (read.ok) return { ok: true, request: read.value as NormalizedRequest };
  return { ok: false, error: invalidArgument(describeProblem(read.problem)) };
}
