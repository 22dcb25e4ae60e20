/**
 * The GenerateContentRequest messages and their fields: the one table the emulator's proto-JSON reader, chargen's
 * JSONL writer and chargen's local check of request lines all read. Field names are the JSON (lowerCamel) names; the
 * proto names are their snake_case forms, and proto-JSON parsers take either (the real batch parser was recorded
 * taking snake_case: cookbook quickstarts/Batch_mode.ipynb, ellmer PR #926's real run, inspect_ai PR #3273 in
 * production; camelCase only in third-party reports). Map keys (a schema's `properties` names) and free-form values
 * (`responseJsonSchema`, tools, labels) are data: they keep their spelling.
 */
export type MessageName =
  | 'BatchRequestLine'
  | 'GenerateContentRequest'
  | 'Content'
  | 'Part'
  | 'Blob'
  | 'FileData'
  | 'SafetySetting'
  | 'GenerationConfig'
  | 'ThinkingConfig'
  | 'ImageConfig';

export type FieldKind =
  | { kind: 'scalar' }
  | { kind: 'value' }
  | { kind: 'message'; message: MessageName; repeated: boolean }
  | { kind: 'schema' };

const scalar: FieldKind = { kind: 'scalar' };
/** Free-form JSON (a JSON Schema, tool declarations, a map): passed through untouched. */
const value: FieldKind = { kind: 'value' };
const message = (name: MessageName, repeated = false): FieldKind => ({ kind: 'message', message: name, repeated });

export const requestMessages: Readonly<Record<MessageName, Readonly<Record<string, FieldKind>>>> = {
  /** One line of a batch input file, as documented: `{"key": ..., "request": GenerateContentRequest}`. */
  BatchRequestLine: { key: scalar, request: message('GenerateContentRequest') },
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

/**
 * Fields of the Schema message (`responseSchema`, OpenAPI subset). Any other name is left as written, for the
 * emulator's schema check to reject by name; `properties` is a map whose keys are the caller's property names.
 */
const schemaFields = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required',
  'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering',
  'default', 'items', 'minimum', 'maximum',
]);

export type FieldCasing = 'camel' | 'snake';

/** A field name as written, or an index into a list. */
export type RequestPathStep = string | number;

export type RequestProblem =
  | { kind: 'no-such-field'; path: RequestPathStep[]; field: string; message: MessageName }
  | { kind: 'set-twice'; path: RequestPathStep[]; field: string; otherSpelling: string }
  | { kind: 'expected-object'; path: RequestPathStep[]; message: MessageName; got: unknown }
  | { kind: 'expected-list'; path: RequestPathStep[]; message: MessageName; got: unknown };

export type RewriteResult = { ok: true; value: Record<string, unknown> } | { ok: false; problem: RequestProblem };

export function toCamelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

export function toSnakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

const spell = (camelName: string, casing: FieldCasing) => (casing === 'camel' ? camelName : toSnakeCase(camelName));

function isObject(input: unknown): input is Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input);
}

/** `contents[0].parts[1].file_data`: the path as the caller wrote it. */
export function formatRequestPath(path: readonly RequestPathStep[]): string {
  return path.map((step, index) => (typeof step === 'number' ? `[${step}]` : index === 0 ? step : `.${step}`)).join('');
}

class ProblemFound extends Error {
  constructor(readonly problem: RequestProblem) {
    super(problem.kind);
  }
}

function rewriteSchema(input: unknown, casing: FieldCasing): unknown {
  if (!isObject(input)) return input;
  const output: Record<string, unknown> = {};
  for (const [rawName, fieldValue] of Object.entries(input)) {
    const camel = toCamelCase(rawName);
    const known = schemaFields.has(camel);
    const name = known ? spell(camel, casing) : rawName;
    if (known && camel === 'properties' && isObject(fieldValue)) {
      output[name] = Object.fromEntries(Object.entries(fieldValue).map(([property, schema]) => [property, rewriteSchema(schema, casing)]));
    } else if (known && camel === 'items') {
      output[name] = rewriteSchema(fieldValue, casing);
    } else if (known && camel === 'anyOf' && Array.isArray(fieldValue)) {
      output[name] = fieldValue.map((entry) => rewriteSchema(entry, casing));
    } else {
      output[name] = fieldValue;
    }
  }
  return output;
}

function rewriteField(field: FieldKind, fieldValue: unknown, path: RequestPathStep[], casing: FieldCasing): unknown {
  if (field.kind === 'schema') return rewriteSchema(fieldValue, casing);
  if (field.kind !== 'message') return fieldValue;
  if (!field.repeated) return rewriteMessage(fieldValue, field.message, path, casing);
  if (!Array.isArray(fieldValue)) throw new ProblemFound({ kind: 'expected-list', path, message: field.message, got: fieldValue });
  return fieldValue.map((entry, index) => rewriteMessage(entry, field.message, [...path, index], casing));
}

function rewriteMessage(input: unknown, messageName: MessageName, path: RequestPathStep[], casing: FieldCasing): Record<string, unknown> {
  if (!isObject(input)) throw new ProblemFound({ kind: 'expected-object', path, message: messageName, got: input });
  const fields = requestMessages[messageName];
  const output: Record<string, unknown> = {};
  const spellingByName = new Map<string, string>();
  for (const [rawName, fieldValue] of Object.entries(input)) {
    const camel = toCamelCase(rawName);
    const field = fields[camel];
    if (!field) throw new ProblemFound({ kind: 'no-such-field', path: [...path, rawName], field: rawName, message: messageName });
    const earlier = spellingByName.get(camel);
    if (earlier !== undefined) throw new ProblemFound({ kind: 'set-twice', path: [...path, rawName], field: rawName, otherSpelling: earlier });
    spellingByName.set(camel, rawName);
    // proto3 JSON: null is the field's default, the same as leaving it out.
    if (fieldValue === null || fieldValue === undefined) continue;
    output[spell(camel, casing)] = rewriteField(field, fieldValue, [...path, rawName], casing);
  }
  return output;
}

/**
 * Reads `input` as the message, proto-JSON style (each field in camelCase or snake_case, a field the message does
 * not have is an error, a field given in both spellings is an error), and writes it back with every field name in
 * one casing. Stops at the first problem, as the real parser does ("the parser stops at the first problem in a line",
 * inspect_ai #5100).
 */
export function rewriteFieldNames(input: unknown, options: { message: MessageName; casing: FieldCasing }): RewriteResult {
  try {
    return { ok: true, value: rewriteMessage(input, options.message, [], options.casing) };
  } catch (error) {
    if (error instanceof ProblemFound) return { ok: false, problem: error.problem };
    throw error;
  }
}

/** The JSON names of a message's fields, for a message saying what was expected. */
export function listFieldNames(messageName: MessageName): string[] {
  return Object.keys(requestMessages[messageName]);
}
