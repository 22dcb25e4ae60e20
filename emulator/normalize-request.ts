import { invalidArgument, type RpcStatus } from './api-error.ts';
import { isPlainObject } from './http-io.ts';

/**
 * Reads a GenerateContentRequest the way proto-JSON parsing does: each field may be spelled in camelCase or
 * snake_case, and a name the message does not have is rejected ("Unknown name ... Cannot find field"), which is how
 * the real API treats e.g. an SDK-style `config` object in a JSONL line. Map keys (schema property names) are data and
 * keep their spelling; free-form values (JSON Schema, tool declarations) pass through untouched.
 */
type FieldKind =
  | { kind: 'scalar' }
  | { kind: 'value' }
  | { kind: 'message'; message: MessageName; repeated?: boolean }
  | { kind: 'schema' };

type MessageName =
  | 'GenerateContentRequest'
  | 'Content'
  | 'Part'
  | 'Blob'
  | 'FileData'
  | 'SafetySetting'
  | 'GenerationConfig'
  | 'ThinkingConfig'
  | 'ImageConfig';

const scalar: FieldKind = { kind: 'scalar' };
const value: FieldKind = { kind: 'value' };
const message = (name: MessageName, repeated = false): FieldKind => ({ kind: 'message', message: name, repeated });

const messages: Record<MessageName, Record<string, FieldKind>> = {
  GenerateContentRequest: {
    model: scalar,
    contents: message('Content', true),
    systemInstruction: message('Content'),
    tools: value,
    toolConfig: value,
    safetySettings: message('SafetySetting', true),
    generationConfig: message('GenerationConfig'),
    cachedContent: scalar,
    serviceTier: scalar,
    labels: value,
    store: scalar,
    continuationToken: scalar,
  },
  Content: { role: scalar, parts: message('Part', true) },
  Part: {
    text: scalar,
    inlineData: message('Blob'),
    fileData: message('FileData'),
    thought: scalar,
    thoughtSignature: scalar,
    functionCall: value,
    functionResponse: value,
    executableCode: value,
    codeExecutionResult: value,
    videoMetadata: value,
    mediaResolution: value,
    partMetadata: value,
    toolCall: value,
    toolResponse: value,
    mediaProcessing: value,
    speechMetadata: value,
    audioTranscription: value,
  },
  Blob: { mimeType: scalar, data: scalar, displayName: scalar },
  FileData: { mimeType: scalar, fileUri: scalar, displayName: scalar },
  SafetySetting: { category: scalar, threshold: scalar, method: scalar },
  GenerationConfig: {
    stopSequences: scalar,
    responseMimeType: scalar,
    responseSchema: { kind: 'schema' },
    responseJsonSchema: value,
    responseModalities: scalar,
    candidateCount: scalar,
    maxOutputTokens: scalar,
    temperature: scalar,
    topP: scalar,
    topK: scalar,
    seed: scalar,
    presencePenalty: scalar,
    frequencyPenalty: scalar,
    responseLogprobs: scalar,
    logprobs: scalar,
    enableEnhancedCivicAnswers: scalar,
    speechConfig: value,
    audioTranscriptionConfig: value,
    thinkingConfig: message('ThinkingConfig'),
    imageConfig: message('ImageConfig'),
    mediaResolution: scalar,
  },
  ThinkingConfig: { includeThoughts: scalar, thinkingBudget: scalar, thinkingLevel: scalar },
  ImageConfig: { aspectRatio: scalar, imageSize: scalar },
};

/** Fields of the Schema message; everything else is left in place for the schema check to reject by name. */
const schemaFields = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required',
  'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering',
  'default', 'items', 'minimum', 'maximum',
]);

export function toCamelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}


class NormalizeError extends Error {
  constructor(readonly status: RpcStatus) {
    super(status.message);
  }
}

function fail(message: string): never {
  throw new NormalizeError(invalidArgument(message));
}

function normalizeSchema(input: unknown, path: string): unknown {
  if (!isPlainObject(input)) return input;
  const output: Record<string, unknown> = {};
  for (const [rawName, fieldValue] of Object.entries(input)) {
    const camel = toCamelCase(rawName);
    const name = schemaFields.has(camel) ? camel : rawName;
    if (name === 'properties' && isPlainObject(fieldValue)) {
      const properties: Record<string, unknown> = {};
      for (const [propertyName, propertySchema] of Object.entries(fieldValue)) {
        properties[propertyName] = normalizeSchema(propertySchema, `${path}.properties[${propertyName}]`);
      }
      output[name] = properties;
    } else if (name === 'items') {
      output[name] = normalizeSchema(fieldValue, `${path}.items`);
    } else if (name === 'anyOf' && Array.isArray(fieldValue)) {
      output[name] = fieldValue.map((entry, index) => normalizeSchema(entry, `${path}.any_of[${index}]`));
    } else {
      output[name] = fieldValue;
    }
  }
  return output;
}

function normalizeMessage(input: unknown, messageName: MessageName, path: string): Record<string, unknown> {
  if (!isPlainObject(input)) {
    fail(`Invalid JSON payload received. Expected an object for '${path}', got ${JSON.stringify(input)}.`);
  }
  const fields = messages[messageName];
  const output: Record<string, unknown> = {};
  for (const [rawName, fieldValue] of Object.entries(input)) {
    const name = toCamelCase(rawName);
    const field = fields[name];
    if (!field) {
      fail(`Invalid JSON payload received. Unknown name "${rawName}"${path ? ` at '${path}'` : ''}: Cannot find field.`);
    }
    if (name in output) {
      fail(`Invalid JSON payload received. Field '${path}.${rawName}' is set twice (camelCase and snake_case).`);
    }
    const fieldPath = path ? `${path}.${rawName}` : rawName;
    if (fieldValue === null || fieldValue === undefined) continue;
    switch (field.kind) {
      case 'scalar':
      case 'value':
        output[name] = fieldValue;
        break;
      case 'schema':
        output[name] = normalizeSchema(fieldValue, fieldPath);
        break;
      case 'message':
        if (field.repeated) {
          if (!Array.isArray(fieldValue)) fail(`Invalid JSON payload received. Expected a list for '${fieldPath}'.`);
          output[name] = fieldValue.map((entry, index) => normalizeMessage(entry, field.message, `${fieldPath}[${index}]`));
        } else {
          output[name] = normalizeMessage(fieldValue, field.message, fieldPath);
        }
        break;
    }
  }
  return output;
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

export function normalizeRequest(input: unknown): NormalizeResult {
  try {
    return { ok: true, request: normalizeMessage(input, 'GenerateContentRequest', '') as NormalizedRequest };
  } catch (error) {
    if (error instanceof NormalizeError) return { ok: false, error: error.status };
    throw error;
  }
}
