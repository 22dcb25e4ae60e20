import { inspectImage } from '../../lib/media/inspect-image.ts';
import { invalidArgument, type RpcStatus } from '../api-error.ts';
import type { BlockOutcome } from '../fault-config.ts';
import type { ModelInfo } from '../model-catalog.ts';
import type { NormalizedPart, NormalizedRequest } from '../normalize-request.ts';
import { checkResponseSchema, generateSchemaValue } from '../schema/answer-schema.ts';
import { answerWithImage } from './answer-image.ts';
import { describeTooManyImages, readProvenance } from './image-provenance.ts';
import { createThoughtSignature, createUsage, estimateTokens, sha256 } from './answer-parts.ts';

export type FileLookup = { ok: true; bytes: Buffer; mimeType: string } | { ok: false; error: RpcStatus };
export type AnswerResult = { ok: true; response: Record<string, unknown> } | { ok: false; error: RpcStatus };

export interface AnswerOptions {
  model: ModelInfo;
  request: NormalizedRequest;
  /** Reads the bytes behind a `fileData.fileUri`. */
  readFile: (fileUri: string) => Promise<FileLookup>;
  findBlockMarker: (text: string) => BlockOutcome | undefined;
  /**
   * How the answer travels: a batch line puts a text answer's signature in a part of its own (a recorded
   * gemini-3.5-flash-lite batch line, 2026-08-20), a generateContent answer on the text part (maruel/genai recordings).
   */
  delivery: 'sync' | 'batch';
}

const supportedImageMimeTypes = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/heic', 'image/heif']);
const responseMimeTypes = new Set(['text/plain', 'application/json', 'text/x.enum']);
const modalities = new Set(['TEXT', 'IMAGE', 'AUDIO']);
const thinkingLevels = new Set(['MINIMAL', 'LOW', 'MEDIUM', 'HIGH', 'THINKING_LEVEL_UNSPECIFIED']);
const harmCategories = new Set([
  'HARM_CATEGORY_HARASSMENT', 'HARM_CATEGORY_HATE_SPEECH', 'HARM_CATEGORY_SEXUALLY_EXPLICIT',
  'HARM_CATEGORY_DANGEROUS_CONTENT', 'HARM_CATEGORY_CIVIC_INTEGRITY',
]);
const harmThresholds = new Set([
  'HARM_BLOCK_THRESHOLD_UNSPECIFIED', 'BLOCK_LOW_AND_ABOVE', 'BLOCK_MEDIUM_AND_ABOVE', 'BLOCK_ONLY_HIGH', 'BLOCK_NONE', 'OFF',
]);
const troubleshooting = 'Please retry or report in https://developers.generativeai.google/guide/troubleshooting';

class RequestRejection extends Error {
  constructor(readonly status: RpcStatus) {
    super(status.message);
  }
}

function reject(message: string): never {
  throw new RequestRejection(invalidArgument(message));
}

function invalidEnum(path: string, enumType: string, value: unknown): never {
  reject(`Invalid value at '${path}' (type.googleapis.com/google.ai.generativelanguage.v1beta.${enumType}), ${JSON.stringify(value)}`);
}

interface ReferencedImage {
  sha256: string;
  format: string;
  width: number;
  height: number;
}

interface GatheredInput {
  text: string;
  images: ReferencedImage[];
}

function decodeBase64(data: string, path: string): Buffer {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(data.replace(/\s/g, ''))) {
    reject(`Invalid value at '${path}' (TYPE_BYTES), Base64 decoding failed for "${data.slice(0, 20)}"`);
  }
  return Buffer.from(data, 'base64');
}

function checkImageBytes(bytes: Buffer, declaredMimeType: string | undefined): ReferencedImage {
  if (declaredMimeType && declaredMimeType.startsWith('image/') && !supportedImageMimeTypes.has(declaredMimeType)) {
    reject(`Unsupported MIME type: ${declaredMimeType}`);
  }
  const inspection = inspectImage(bytes);
  if (!inspection.ok) reject(`Unable to process input image. ${troubleshooting}`);
  if (!supportedImageMimeTypes.has(inspection.mimeType)) reject(`Unsupported MIME type: ${inspection.mimeType}`);
  return { sha256: sha256(bytes), format: inspection.format, width: inspection.width, height: inspection.height };
}

async function gatherInput(options: AnswerOptions): Promise<GatheredInput> {
  const texts: string[] = [];
  const images: ReferencedImage[] = [];
  const contents = options.request.contents ?? [];
  const visit = async (parts: NormalizedPart[] | undefined, path: string) => {
    for (const [index, part] of (parts ?? []).entries()) {
      const partPath = `${path}.parts[${index}]`;
      if (typeof part.text === 'string') texts.push(part.text);
      if (part.inlineData) {
        const data = part.inlineData.data;
        if (typeof data !== 'string' || data.length === 0) reject(`* GenerateContentRequest.${partPath}.inline_data.data: required field`);
        const bytes = decodeBase64(data, `${partPath}.inline_data.data`);
        images.push(checkImageBytes(bytes, part.inlineData.mimeType));
      }
      if (part.fileData) {
        const fileUri = part.fileData.fileUri;
        if (typeof fileUri !== 'string' || fileUri.length === 0) reject(`* GenerateContentRequest.${partPath}.file_data.file_uri: required field`);
        const lookup = await options.readFile(fileUri);
        if (!lookup.ok) throw new RequestRejection(lookup.error);
        const mimeType = part.fileData.mimeType ?? lookup.mimeType;
        if (mimeType.startsWith('text/')) texts.push(lookup.bytes.toString('utf8'));
        else images.push(checkImageBytes(lookup.bytes, mimeType));
      }
    }
  };
  await visit(options.request.systemInstruction?.parts, 'system_instruction');
  for (const [index, content] of contents.entries()) await visit(content.parts, `contents[${index}]`);
  return { text: texts.join('\n'), images };
}

interface CheckedConfig {
  wantsImage: boolean;
  wantsText: boolean;
  aspectRatio: string;
  imageSize: string;
  schema?: { kind: 'openapi' | 'json-schema'; value: unknown };
  responseMimeType: string;
  includeThoughts: boolean;
  /** `thinkingConfig.thinkingLevel` in upper case, when asked. */
  thinkingLevel: string | undefined;
}

type GenerationConfig = NonNullable<NormalizedRequest['generationConfig']>;

/** Refuses what the real API refuses (the first problem found is the one answered, so the checks keep their order) and reads what the answer depends on. */
function checkRequest(options: AnswerOptions): CheckedConfig {
  const { request, model } = options;
  if (!request.contents || request.contents.length === 0) reject('* GenerateContentRequest.contents: contents is not specified\n');
  checkSafetySettings(request.safetySettings ?? []);
  const config = request.generationConfig ?? {};
  const { responseMimeType, schema } = checkResponseFormat(config);
  const thinking = checkThinkingConfig(config);
  const requestedModalities = checkModalities({ config, model });
  const { aspectRatio, imageSize } = checkImageConfig({ config, model });
  return {
    wantsImage: requestedModalities.includes('IMAGE'),
    wantsText: requestedModalities.includes('TEXT'),
    aspectRatio,
    imageSize,
    ...(schema !== undefined ? { schema } : {}),
    responseMimeType,
    includeThoughts: thinking.includeThoughts === true,
    thinkingLevel: thinking.thinkingLevel === undefined ? undefined : String(thinking.thinkingLevel).toUpperCase(),
  };
}

function checkSafetySettings(safetySettings: NonNullable<NormalizedRequest['safetySettings']>): void {
  for (const [index, setting] of safetySettings.entries()) {
    if (setting.method !== undefined) reject(`* GenerateContentRequest.safety_settings[${index}].method: method parameter is not supported in Gemini API.`);
    if (!harmCategories.has(String(setting.category))) invalidEnum(`safety_settings[${index}].category`, 'HarmCategory', setting.category);
    if (!harmThresholds.has(String(setting.threshold))) invalidEnum(`safety_settings[${index}].threshold`, 'SafetySetting.HarmBlockThreshold', setting.threshold);
  }
}

/** The response's MIME type and its schema (OpenAPI in `responseSchema`, JSON Schema in `responseJsonSchema`). */
function checkResponseFormat(config: GenerationConfig): Pick<CheckedConfig, 'responseMimeType' | 'schema'> {
  const responseMimeType = typeof config.responseMimeType === 'string' ? config.responseMimeType : 'text/plain';
  if (!responseMimeTypes.has(responseMimeType)) {
    reject(`* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are \`text/plain\`, \`application/json\`, \`text/x.enum\`.`);
  }
  if (config.responseSchema !== undefined && config.responseJsonSchema !== undefined) {
    reject('* GenerateContentRequest.generation_config.response_schema: response_schema and response_json_schema cannot both be set.');
  }
  const schemaValue = config.responseSchema ?? config.responseJsonSchema;
  const schemaKind = config.responseSchema !== undefined ? 'openapi' : 'json-schema';
  if (schemaValue !== undefined && responseMimeType === 'text/plain') {
    reject(`* GenerateContentRequest.generation_config.response_mime_type: must be application/json or text/x.enum when a response schema is set.`);
  }
  if (schemaValue === undefined) return { responseMimeType };
  const check = checkResponseSchema({ schema: schemaValue, kind: schemaKind });
  if (!check.ok) reject(check.message);
  return { responseMimeType, schema: { kind: schemaKind, value: schemaValue } };
}

function checkThinkingConfig(config: GenerationConfig): NonNullable<GenerationConfig['thinkingConfig']> {
  const thinking = config.thinkingConfig ?? {};
  if (thinking.thinkingBudget !== undefined && thinking.thinkingLevel !== undefined) {
    reject('thinking_budget and thinking_level are not supported together.');
  }
  if (thinking.thinkingLevel !== undefined && !thinkingLevels.has(String(thinking.thinkingLevel).toUpperCase())) {
    invalidEnum('generation_config.thinking_config.thinking_level', 'ThinkingConfig.ThinkingLevel', thinking.thinkingLevel);
  }
  return thinking;
}

/** The modalities asked for (by default text, and images from an image model), each one the model can answer. */
function checkModalities(options: { config: GenerationConfig; model: ModelInfo }): unknown[] {
  const { config, model } = options;
  const requestedModalities = config.responseModalities ?? (model.generatesImages ? ['TEXT', 'IMAGE'] : ['TEXT']);
  if (!Array.isArray(requestedModalities)) reject('* GenerateContentRequest.generation_config.response_modalities: must be a list');
  for (const [index, modality] of requestedModalities.entries()) {
    if (!modalities.has(String(modality))) invalidEnum(`generation_config.response_modalities[${index}]`, 'GenerationConfig.Modality', modality);
  }
  const wantsImage = requestedModalities.includes('IMAGE');
  if (wantsImage && !model.generatesImages) {
    reject('Model does not support the requested response modalities: image');
  }
  if (model.generatesImages && requestedModalities.includes('AUDIO')) reject('Model does not support the requested response modalities: audio');
  if (model.generatesImages && config.candidateCount !== undefined && Number(config.candidateCount) > 1) {
    reject('* GenerateContentRequest.generation_config.candidate_count: only 1 candidate is supported for this model.');
  }
  return requestedModalities;
}

/** The image's aspect ratio and size (1:1 and 1K unless asked), each one the model serves. */
function checkImageConfig(options: { config: GenerationConfig; model: ModelInfo }): Pick<CheckedConfig, 'aspectRatio' | 'imageSize'> {
  const { config, model } = options;
  const imageConfig = config.imageConfig ?? {};
  const capabilities = model.served.image;
  if ((imageConfig.imageSize !== undefined || imageConfig.aspectRatio !== undefined) && !capabilities) reject('Image config is not supported for this model.');
  const aspectRatio = imageConfig.aspectRatio === undefined ? '1:1' : String(imageConfig.aspectRatio);
  const imageSize = imageConfig.imageSize === undefined ? '1K' : String(imageConfig.imageSize);
  if (capabilities && !capabilities.aspectRatios.includes(aspectRatio)) {
    reject(`* GenerateContentRequest.generation_config.image_config.aspect_ratio: unsupported aspect ratio ${JSON.stringify(aspectRatio)} for ${model.name}; supported: ${capabilities.aspectRatios.join(', ')}.`);
  }
  if (capabilities && !capabilities.imageSizes.includes(imageSize)) {
    reject(`* GenerateContentRequest.generation_config.image_config.image_size: unsupported image size ${JSON.stringify(imageSize)} for ${model.name}; supported: ${capabilities.imageSizes.join(', ')}.`);
  }
  return { aspectRatio, imageSize };
}

const descriptiveWords = [
  'amber', 'azure', 'brooding', 'cheerful', 'crimson', 'dusky', 'gilded', 'jade', 'luminous', 'mossy', 'pale',
  'russet', 'silver', 'stormy', 'sunlit', 'twilight', 'verdant', 'weathered', 'wistful', 'wry',
];

function pickWords(seed: string, count: number): string[] {
  return Array.from({ length: count }, (_unused, index) => {
    const value = Number.parseInt(sha256(`${seed}:${index}`).slice(0, 8), 16);
    return descriptiveWords[value % descriptiveWords.length] ?? 'plain';
  });
}

function describeImages(input: GatheredInput, seed: string): string {
  if (input.images.length === 0) return `A reply about: ${input.text.slice(0, 80)}`;
  return input.images
    .map((image, index) => {
      const [first, second, third] = pickWords(`${seed}:${index}`, 3);
      return `Image ${index + 1}: a ${image.width}x${image.height} ${image.format.toUpperCase()} picture of a ${first} figure in ${second} light against a ${third} background.`;
    })
    .join(' ');
}

function seedOf(parts: string[]): string {
  return sha256(parts.join('\u0000'));
}

function blockedResponse(outcome: BlockOutcome, base: Record<string, unknown>, usageMetadata: Record<string, unknown>) {
  // A blocked prompt: promptFeedback with the reason and nothing else, no candidates (vercel/ai's live capture
  // issue-19758-image-prompt-block.json; the marker's reason is SAFETY, the capture's PROHIBITED_CONTENT).
  if (outcome === 'PROMPT_BLOCK') return { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata, ...base };
  // NO_IMAGE comes with an empty content object and no finishMessage (vercel/ai's live capture
  // google-image-no-image-live.json); the other finish reasons' messages are unrecorded.
  const noImage = outcome === 'NO_IMAGE';
  return {
    candidates: [{ ...(noImage ? { content: {} } : {}), finishReason: outcome, ...(noImage ? {} : { finishMessage: `The response was stopped: ${outcome}.` }), index: 0 }],
    usageMetadata,
    ...base,
  };
}

/**
 * Answers one GenerateContentRequest as a pure function of the request and the bytes it references: the same request
 * over the same images always gets the same answer, different images get different ones.
 */
export async function answerRequest(options: AnswerOptions): Promise<AnswerResult> {
  try {
    const config = checkRequest(options);
    const input = await gatherInput(options);
    const tooMany = config.wantsImage ? describeTooManyImages({ model: options.model, images: input.images.length }) : undefined;
    if (tooMany) reject(tooMany);
    const imageSeed = seedOf(input.images.map((image) => image.sha256));
    // generationConfig.seed steers the real model's draw (best effort, said the SDK's docs); here it picks another
    // image outright. A request without one is answered as it always was, so recorded answers keep their bytes.
    const seed = options.request.generationConfig?.['seed'];
    const requestSeed = seedOf([options.model.name, input.text, imageSeed, config.aspectRatio, config.imageSize, ...(seed === undefined ? [] : [`seed:${String(seed)}`])]);
    const base = { modelVersion: options.model.name, responseId: Buffer.from(requestSeed.slice(0, 32), 'hex').toString('base64url') };
    const promptTokens = estimateTokens(input.text);
    const thoughtTokens = options.model.served.thinking ? 64 + (Number.parseInt(requestSeed.slice(0, 4), 16) % 512) : 0;
    const blockOutcome = options.findBlockMarker(input.text);
    if (blockOutcome) {
      const blockedUsage = createUsage({ prompt: promptTokens, images: input.images.length, candidates: 0, thoughts: 0, outputModality: 'TEXT' });
      return { ok: true, response: blockedResponse(blockOutcome, base, blockedUsage) };
    }
    if (config.wantsImage) {
      const response = await answerWithImage({
        model: options.model,
        aspectRatio: config.aspectRatio,
        imageSize: config.imageSize,
        wantsText: config.wantsText,
        includeThoughts: config.includeThoughts,
        thinkingLevel: config.thinkingLevel,
        requestSeed,
        provenance: readProvenance({ request: options.request, imageSha256s: input.images.map((image) => image.sha256) }),
        promptTokens,
        inputImages: input.images.length,
        thoughtTokens,
        base,
      });
      return { ok: true, response };
    }
    const text = answerText(config, input, input.images.length > 0 ? imageSeed : seedOf([input.text]));
    const candidateTokens = estimateTokens(text);
    return {
      ok: true,
      response: {
        candidates: [{ content: { parts: createTextParts({ options, config, text, requestSeed }), role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: createUsage({ prompt: promptTokens, images: input.images.length, candidates: candidateTokens, thoughts: thoughtTokens, outputModality: 'TEXT' }),
        ...base,
      },
    };
  } catch (error) {
    if (error instanceof RequestRejection) return { ok: false, error: error.status };
    throw error;
  }
}

function answerText(config: CheckedConfig, input: GatheredInput, seed: string): string {
  if (config.schema) return JSON.stringify(generateSchemaValue({ schema: config.schema.value, kind: config.schema.kind, seed }));
  if (config.responseMimeType === 'application/json') return JSON.stringify({ description: describeImages(input, seed) });
  return describeImages(input, seed);
}

/**
 * A text answer's parts as recorded: with includeThoughts, an unsigned `thought: true` summary first (maruel/genai
 * GenSync-JSONSchema, 2026-05); a thinking model signs its answer, on the text part in generateContent answers and in
 * a part of its own on batch lines.
 */
function createTextParts(options: { options: AnswerOptions; config: CheckedConfig; text: string; requestSeed: string }): Record<string, unknown>[] {
  const thinking = options.options.model.served.thinking;
  const thought = options.config.includeThoughts && thinking ? [{ text: '**Looking closely at the reference**\n\nReading the figure before answering.', thought: true }] : [];
  if (!thinking) return [{ text: options.text }];
  const thoughtSignature = createThoughtSignature({ seed: `text:${options.requestSeed}`, bytes: 180 });
  if (options.options.delivery === 'batch') return [...thought, { text: options.text }, { thoughtSignature }];
  return [...thought, { text: options.text, thoughtSignature }];
}
