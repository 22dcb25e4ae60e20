import { z } from 'zod';
import catalogData from './gemini-models.json' with { type: 'json' };

const dateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
const generationMethods = ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'] as const;

export const imageCapabilitiesSchema = z
  .object({
    /** `imageConfig.imageSize` values the model takes (uppercase K; `512` only on 3.1 Flash Image). */
    imageSizes: z.array(z.string().min(1)).min(1),
    aspectRatios: z.array(z.string().regex(/^\d+:\d+$/)).min(1),
    maxReferenceImages: z.number().int().min(1),
    /** How many of the references it keeps a character's likeness from. */
    maxCharacterReferences: z.number().int().min(1),
    outputMimeType: z.enum(['image/jpeg', 'image/png']),
    /** Output tokens billed per image, by imageSize. */
    outputTokens: z.record(z.string(), z.number().int().positive()),
    /** The model always thinks and takes no thinkingLevel. */
    thinkingAlwaysOn: z.boolean().optional(),
  })
  .strict();

export const servedModelSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9.-]+$/),
    stage: z.enum(['ga', 'preview', 'alias']),
    displayName: z.string().min(1),
    description: z.string().min(1),
    /** models.get's `thinking`: the model thinks, and signs its parts (`thoughtSignature`). */
    thinking: z.boolean(),
    version: z.string().min(1),
    inputTokenLimit: z.number().int().positive(),
    outputTokenLimit: z.number().int().positive(),
    /** `supportedGenerationMethods` as models.get answers it (the SDK calls them `supportedActions`). */
    methods: z.array(z.enum(generationMethods)).min(1),
    maxTemperature: z.number().positive(),
    thinkingLevels: z.array(z.enum(['MINIMAL', 'LOW', 'MEDIUM', 'HIGH'])).optional(),
    /**
     * What temperature/topP/topK do: `ignored` (deprecated, Gemini 3.6 on), `discouraged` (Gemini 3: lower values may
     * loop), `accepted` (earlier models).
     */
    samplingParameters: z.enum(['ignored', 'discouraged', 'accepted']),
    deprecation: z.object({ announced: dateSchema.optional(), shutdown: dateSchema.optional(), replacement: z.string().min(1) }).strict().optional(),
    image: imageCapabilitiesSchema.optional(),
    /** Fact (a field path, or `served`) → where it comes from: an id of `sources`, or a sentence. */
    sources: z.record(z.string(), z.string().min(1)),
  })
  .strict();
export type ServedModel = z.infer<typeof servedModelSchema>;

export const modelCatalogSchema = z
  .object({
    $comment: z.string(),
    checkedOn: dateSchema,
    sources: z.record(z.string(), z.string().min(1)),
    models: z.array(servedModelSchema).min(1),
    /** Retired ids the API still answers, with another model's answer (billed at that model's rates). */
    routed: z.array(z.object({ id: z.string().min(1), routedTo: z.string().min(1), since: dateSchema, source: z.string().min(1) }).strict()),
    /** Ids shut down: the API answers 404. */
    retired: z.array(z.object({ id: z.string().min(1), shutdown: dateSchema, replacement: z.string().min(1), source: z.string().min(1) }).strict()),
  })
  .strict()
  .superRefine((catalog, context) => {
    const served = new Set(catalog.models.map((model) => model.id));
    const known = (id: string) => served.has(id) || catalog.retired.some((entry) => entry.id === id) || catalog.routed.some((entry) => entry.id === id);
    for (const [index, entry] of [...catalog.routed.entries()]) {
      if (!served.has(entry.routedTo)) context.addIssue({ code: 'custom', path: ['routed', index, 'routedTo'], message: `${entry.routedTo} is not a served model` });
    }
    for (const [index, entry] of catalog.retired.entries()) {
      if (!known(entry.replacement)) context.addIssue({ code: 'custom', path: ['retired', index, 'replacement'], message: `${entry.replacement} is not in the catalog` });
    }
  });
export type ModelCatalog = z.infer<typeof modelCatalogSchema>;

/** Parsed once at load: a mistake in the data file fails every test at once, naming the field. */
export const modelCatalog: ModelCatalog = modelCatalogSchema.parse(catalogData);

/** `models/x` and `x` both name model x. */
export function toModelId(name: string): string {
  // Vertex AI names a model `publishers/google/models/<id>` (its models.get and models.list).
  for (const prefix of ['models/', 'publishers/google/models/']) if (name.startsWith(prefix)) return name.slice(prefix.length);
  return name;
}

export function findServedModel(name: string, catalog: ModelCatalog = modelCatalog): ServedModel | undefined {
  const id = toModelId(name);
  return catalog.models.find((model) => model.id === id);
}

export function findRetiredModel(name: string, catalog: ModelCatalog = modelCatalog): ModelCatalog['retired'][number] | undefined {
  const id = toModelId(name);
  return catalog.retired.find((entry) => entry.id === id);
}

export function findRoutedModel(name: string, catalog: ModelCatalog = modelCatalog): ModelCatalog['routed'][number] | undefined {
  const id = toModelId(name);
  return catalog.routed.find((entry) => entry.id === id);
}

/**
 * The model to move to from a retired or deprecated one: its named replacement, followed while that is itself
 * retired or deprecated (3.1 Flash Image Preview → 3.1 Flash Image → Nano Banana 2.1), with the steps taken.
 */
export function findReplacementChain(name: string, catalog: ModelCatalog = modelCatalog): string[] {
  const chain: string[] = [];
  let current = toModelId(name);
  for (let step = 0; step < 10; step += 1) {
    const next = findRetiredModel(current, catalog)?.replacement ?? findRoutedModel(current, catalog)?.routedTo ?? findServedModel(current, catalog)?.deprecation?.replacement;
    if (next === undefined || chain.includes(next)) break;
    chain.push(next);
    current = next;
  }
  return chain;
}

function measureEditDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_unused, index) => index);
  for (let row = 1; row <= left.length; row += 1) {
    const current = [row];
    for (let column = 1; column <= right.length; column += 1) {
      const substitution = (previous[column - 1] ?? 0) + (left[row - 1] === right[column - 1] ? 0 : 1);
      current.push(Math.min((previous[column] ?? 0) + 1, (current[column - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length] ?? 0;
}

/** Pure: the candidates closest to `id` by edit distance (ties in the candidates' order), at most `count`. */
export function findNearestModelIds(options: { id: string; candidates: readonly string[]; count: number }): string[] {
  const id = toModelId(options.id);
  return [...new Set(options.candidates.map(toModelId))]
    .map((candidate, order) => ({ candidate, order, distance: measureEditDistance(id, candidate) }))
    .sort((left, right) => left.distance - right.distance || left.order - right.order)
    .slice(0, options.count)
    .map((entry) => entry.candidate);
}

/**
 * Pure: what is wrong with an imageConfig for a model, one sentence per problem naming the model and what it takes;
 * empty when it fits, or when the catalog does not know the model (the API then judges it).
 */
export function describeImageConfigProblems(options: { model: string; imageConfig: { imageSize?: string; aspectRatio?: string } }): string[] {
  const capabilities = findServedModel(options.model)?.image;
  if (!capabilities) return [];
  const problems: string[] = [];
  const { imageSize, aspectRatio } = options.imageConfig;
  if (imageSize !== undefined && !capabilities.imageSizes.includes(imageSize)) {
    problems.push(`${toModelId(options.model)} takes imageSize ${capabilities.imageSizes.join(', ')}; "${imageSize}" is not one of them`);
  }
  if (aspectRatio !== undefined && !capabilities.aspectRatios.includes(aspectRatio)) {
    problems.push(`${toModelId(options.model)} takes aspectRatio ${capabilities.aspectRatios.join(', ')}; "${aspectRatio}" is not one of them`);
  }
  return problems;
}

/**
 * Pure: "gemini-3-pro-image-preview was shut down on 2026-06-25; use gemini-3-pro-image", following the replacement
 * while it is itself gone or deprecated; undefined for a model the catalog does not know as retired.
 */
export function describeRetiredModel(name: string, catalog: ModelCatalog = modelCatalog): string | undefined {
  const retired = findRetiredModel(name, catalog);
  if (!retired) return undefined;
  const chain = findReplacementChain(name, catalog);
  const target = chain.at(-1) ?? retired.replacement;
  const via = chain.length > 1 ? ` (its named replacement ${retired.replacement} is itself deprecated)` : '';
  return `${retired.id} was shut down on ${retired.shutdown}; use ${target}${via}`;
}
