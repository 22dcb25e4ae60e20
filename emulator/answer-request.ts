import { createHash } from 'node:crypto';
import { inspectImage } from '../stages/media/inspect-image.ts';
import { invalidArgument, type RpcStatus } from './api-error.ts';
import type { BlockOutcome } from './fault-config.ts';
import { findImageDimensions, supportedAspectRatios, supportedImageSizes } from './image-dimensions.ts';
import type { ModelInfo } from './model-catalog.ts';
import type { NormalizedPart, NormalizedRequest } from './normalize-request.ts';
import { encodePng } from './png/encode-png.ts';
import { checkResponseSchema, generateSchemaValue } from './schema/answer-schema.ts';

export type FileLookup = { ok: true; bytes: Buffer; mimeType: string } | { ok: false; error: RpcStatus };
export type AnswerResult = { ok: true; response: Record<string, unknown> } | { ok: false; error: RpcStatus };

export interface AnswerOptions {
  model: ModelInfo;
  request: NormalizedRequest;
  /** Reads the bytes behind a `fileData.fileUri`. */
  readFile: (fileUri: string) => Promise<FileLookup>;
  findBlockMarker: (text: string) => BlockOutcome | undefined;
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

const inputImageTokens = 560;
const outputImageTokens: Readonly<Record<string, number>> = { '1K': 1120, '2K': 1120, '4K': 2000 };

function sha256(input: string | Buffer): string {
  return createHash('sha256').update(input).digest('hex');
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

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
}

function checkRequest(options: AnswerOptions): CheckedConfig {
  const { request, model } = options;
  if (!request.contents || request.contents.length === 0) reject('* GenerateContentRequest.contents: contents is not specified\n');
  for (const [index, setting] of (request.safetySettings ?? []).entries()) {
    if (setting.method !== undefined) reject(`* GenerateContentRequest.safety_settings[${index}].method: method parameter is not supported in Gemini API.`);
    if (!harmCategories.has(String(setting.category))) invalidEnum(`safety_settings[${index}].category`, 'HarmCategory', setting.category);
    if (!harmThresholds.has(String(setting.threshold))) invalidEnum(`safety_settings[${index}].threshold`, 'SafetySetting.HarmBlockThreshold', setting.threshold);
  }
  const config = request.generationConfig ?? {};
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
  if (schemaValue !== undefined) {
    const check = checkResponseSchema({ schema: schemaValue, kind: schemaKind });
    if (!check.ok) reject(check.message);
  }
  const thinking = config.thinkingConfig ?? {};
  if (thinking.thinkingBudget !== undefined && thinking.thinkingLevel !== undefined) {
    reject('thinking_budget and thinking_level are not supported together.');
  }
  if (thinking.thinkingLevel !== undefined && !thinkingLevels.has(String(thinking.thinkingLevel).toUpperCase())) {
    invalidEnum('generation_config.thinking_config.thinking_level', 'ThinkingConfig.ThinkingLevel', thinking.thinkingLevel);
  }
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
  const imageConfig = config.imageConfig ?? {};
  if (imageConfig.imageSize !== undefined && !model.generatesImages) reject('Image config is not supported for this model.');
  const aspectRatio = imageConfig.aspectRatio === undefined ? '1:1' : String(imageConfig.aspectRatio);
  const imageSize = imageConfig.imageSize === undefined ? '1K' : String(imageConfig.imageSize);
  if (!supportedAspectRatios.includes(aspectRatio)) {
    reject(`* GenerateContentRequest.generation_config.image_config.aspect_ratio: unsupported aspect ratio ${JSON.stringify(aspectRatio)}; supported: ${supportedAspectRatios.join(', ')}.`);
  }
  const modelSizes = model.imageSizes ?? supportedImageSizes;
  if (!modelSizes.includes(imageSize)) {
    reject(`* GenerateContentRequest.generation_config.image_config.image_size: unsupported image size ${JSON.stringify(imageSize)} for ${model.name}; supported: ${modelSizes.join(', ')}.`);
  }
  return {
    wantsImage,
    wantsText: requestedModalities.includes('TEXT'),
    aspectRatio,
    imageSize,
    ...(schemaValue !== undefined ? { schema: { kind: schemaKind, value: schemaValue } } : {}),
    responseMimeType,
    includeThoughts: thinking.includeThoughts === true,
  };
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

function usage(options: { prompt: number; images: number; candidates: number; thoughts: number; outputModality: 'TEXT' | 'IMAGE' }) {
  const promptTokenCount = options.prompt + options.images * inputImageTokens;
  return {
    promptTokenCount,
    candidatesTokenCount: options.candidates,
    ...(options.thoughts > 0 ? { thoughtsTokenCount: options.thoughts } : {}),
    totalTokenCount: promptTokenCount + options.candidates + options.thoughts,
    promptTokensDetails: [
      { modality: 'TEXT', tokenCount: options.prompt },
      ...(options.images > 0 ? [{ modality: 'IMAGE', tokenCount: options.images * inputImageTokens }] : []),
    ],
    candidatesTokensDetails: [{ modality: options.outputModality, tokenCount: options.candidates }],
  };
}

function blockedResponse(outcome: BlockOutcome, base: Record<string, unknown>, usageMetadata: Record<string, unknown>) {
  if (outcome === 'PROMPT_BLOCK') {
    return { promptFeedback: { blockReason: 'SAFETY', blockReasonMessage: 'The prompt was blocked for safety reasons.' }, usageMetadata, ...base };
  }
  const content =
    outcome === 'NO_IMAGE'
      ? { content: { role: 'model', parts: [{ text: 'I was not able to generate an image for this request.' }] } }
      : {};
  return {
    candidates: [{ ...content, finishReason: outcome, finishMessage: `The response was stopped: ${outcome}.`, index: 0 }],
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
    const imageSeed = seedOf(input.images.map((image) => image.sha256));
    const requestSeed = seedOf([options.model.name, input.text, imageSeed, config.aspectRatio, config.imageSize]);
    const base = { modelVersion: options.model.name, responseId: Buffer.from(requestSeed.slice(0, 32), 'hex').toString('base64url') };
    const promptTokens = estimateTokens(input.text);
    const thoughtTokens = options.model.name.startsWith('gemini-3') ? 64 + (Number.parseInt(requestSeed.slice(0, 4), 16) % 512) : 0;
    const blockOutcome = options.findBlockMarker(input.text);
    if (blockOutcome) {
      const blockedUsage = usage({ prompt: promptTokens, images: input.images.length, candidates: 0, thoughts: 0, outputModality: 'TEXT' });
      return { ok: true, response: blockedResponse(blockOutcome, base, blockedUsage) };
    }
    if (config.wantsImage) return { ok: true, response: answerWithImage({ config, input, base, requestSeed, promptTokens, thoughtTokens }) };

    const seed = input.images.length > 0 ? imageSeed : seedOf([input.text]);
    let text: string;
    if (config.schema) {
      text = JSON.stringify(generateSchemaValue({ schema: config.schema.value, kind: config.schema.kind, seed }));
    } else if (config.responseMimeType === 'application/json') {
      text = JSON.stringify({ description: describeImages(input, seed) });
    } else {
      text = describeImages(input, seed);
    }
    const thoughtPart = config.includeThoughts ? [{ text: `Looking closely at the reference before answering.`, thought: true }] : [];
    const candidateTokens = estimateTokens(text);
    return {
      ok: true,
      response: {
        candidates: [{ content: { role: 'model', parts: [...thoughtPart, { text }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: usage({ prompt: promptTokens, images: input.images.length, candidates: candidateTokens, thoughts: thoughtTokens, outputModality: 'TEXT' }),
        ...base,
      },
    };
  } catch (error) {
    if (error instanceof RequestRejection) return { ok: false, error: error.status };
    throw error;
  }
}

function answerWithImage(options: {
  config: CheckedConfig;
  input: GatheredInput;
  base: Record<string, unknown>;
  requestSeed: string;
  promptTokens: number;
  thoughtTokens: number;
}): Record<string, unknown> {
  const { config, requestSeed } = options;
  const finalSize = findImageDimensions({ aspectRatio: config.aspectRatio, imageSize: config.imageSize });
  const draftSize = findImageDimensions({ aspectRatio: config.aspectRatio, imageSize: '1K' });
  if (!finalSize || !draftSize) throw new Error('image dimensions were checked before');
  const draft = encodePng({ ...draftSize, seed: requestSeed, variant: 'draft' });
  const final = encodePng({ ...finalSize, seed: requestSeed, variant: 'final' });
  const caption = `A character sheet render, ${finalSize.width}x${finalSize.height}.`;
  const parts: Record<string, unknown>[] = [
    { text: 'Planning the composition: pose, palette and lighting from the description.', thought: true },
    { inlineData: { mimeType: 'image/png', data: draft.toString('base64') }, thought: true },
    ...(config.wantsText ? [{ text: caption }] : []),
    {
      inlineData: { mimeType: 'image/png', data: final.toString('base64') },
      thoughtSignature: Buffer.from(sha256(`signature:${requestSeed}`), 'hex').toString('base64'),
    },
  ];
  const candidateTokens = (outputImageTokens[config.imageSize] ?? 1120) + (config.wantsText ? estimateTokens(caption) : 0);
  return {
    candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
    usageMetadata: usage({
      prompt: options.promptTokens,
      images: options.input.images.length,
      candidates: candidateTokens,
      thoughts: options.thoughtTokens,
      outputModality: 'IMAGE',
    }),
    ...options.base,
  };
}
