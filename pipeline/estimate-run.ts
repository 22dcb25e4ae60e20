import { listShots } from '../schemas/shot-settings.ts';
import { computeAnalysisKey, collectInputImages } from '../stages/analyze/analyze-images.ts';
import { readAnalysisState } from '../stages/analyze/analysis-checkpoint.ts';
import { hasStoredFiles } from '../stages/synthesize/check-stored-answer.ts';
import { planSynthesis } from '../stages/synthesize/core/plan-synthesis.ts';
import { listOutputFolder } from '../stages/synthesize/list-output-folder.ts';
import { listPromptReferences, type GenerationPrompt } from '../schemas/generation-prompt.ts';
import { analysisImageTokens } from '../stages/analyze/core/plan-characters.ts';
import type { PriceTable } from '../schemas/price-table.ts';
import type { ChargenConfig } from '../schemas/chargen-config.ts';
import { geminiSettingsSchema } from '../schemas/gemini-settings.ts';
import { readCachedKeys, readCachedOutcomes } from '../lib/gemini/result-cache.ts';
import type { Logger } from '../lib/logger.ts';
import type { PipelineContext } from './pipeline-context.ts';
import { analyzeStep, listWrittenFolders, readAnalysisTemplate } from '../stages/analyze/analyze-step.ts';
import { planCompile } from '../stages/compile/compile-step.ts';
import { planSheets } from '../stages/synthesize/make-sheets.ts';
import { storedAnswersDirectory } from '../lib/store/stored-answers.ts';
import type { StageName } from '../stages/stage-step.ts';
import { backendStateDirectory } from '../lib/store/workspace-layout.ts';

export interface StagePlan {
  items: number;
  /** Already done: answered earlier (cached) or, for images, already in the output folder. */
  cached: number;
  toSend: number;
  jobs: number;
  costUsd: number;
  /** The counts rest on the analysis still to come (variants × images), not on prompts compiled now. */
  estimated: boolean;
}

export interface RunPlan {
  analyze: StagePlan;
  synthesize: StagePlan;
  compile: { items: number; estimated: boolean };
  costUsd: number;
  /** Models (or a model at an image size) with work to send but no price in the table: their cost is not in `costUsd`. */
  unpricedModels: string[];
}

/** Input tokens of a reference image to an image model (Vertex model card of Gemini 3 Pro Image). */
export const imageInputTokens = 560;

const quietLogger: Logger = { print: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Pure: what sending `count` requests of a kind costs, from the price table and the usage assumptions. */
export function estimateCost(options: {
  kind: 'analysis' | 'image';
  count: number;
  model: string;
  imageSize?: string;
  prices: PriceTable;
  usage: ChargenConfig['usageEstimate'];
  /** Input tokens beyond the usage assumptions, over all the requests: a character's references past its first. */
  extraInputTokens?: number;
}): number {
  const price = options.prices[options.model];
  if (!price || options.count === 0) return 0;
  const extra = ((options.extraInputTokens ?? 0) * price.inputPerMillionTokens) / 1_000_000;
  const tokens =
    options.kind === 'analysis'
      ? options.usage.analysisInputTokens * price.inputPerMillionTokens + options.usage.analysisOutputTokens * price.outputPerMillionTokens
      : options.usage.imageInputTokens * price.inputPerMillionTokens + options.usage.imageThoughtTokens * price.outputPerMillionTokens;
  const image = options.kind === 'image' ? (price.imagePrices?.[options.imageSize ?? '2K'] ?? 0) : 0;
  return options.count * (tokens / 1_000_000 + image) + extra;
}

/** Pure: what the price table lacks to price a request of this kind (the model, or its image size), or nothing. */
export function findMissingPrice(options: { kind: 'analysis' | 'image'; model: string; imageSize?: string; prices: PriceTable }): string | undefined {
  const price = options.prices[options.model];
  if (!price) return options.model;
  const imageSize = options.imageSize ?? '2K';
  if (options.kind === 'image' && price.imagePrices?.[imageSize] === undefined) return `${options.model} at ${imageSize}`;
  return undefined;
}

/** What the plan cannot price, said once as a warning: an estimate must never pass for $0 in silence. */
function listUnpricedModels(options: { config: ChargenConfig; analyze: StagePlan; synthesize: StagePlan; logger: Logger }): string[] {
  const { config } = options;
  const missing = [
    options.analyze.toSend > 0 ? findMissingPrice({ kind: 'analysis', model: config.analyze.model, prices: config.prices }) : undefined,
    options.synthesize.toSend > 0 ? findMissingPrice({ kind: 'image', model: config.compile.model, imageSize: config.compile.imageConfig.imageSize, prices: config.prices }) : undefined,
  ];
  const unpriced = [...new Set(missing.filter((name) => name !== undefined))];
  for (const name of unpriced) options.logger.warn(`no price for ${name} in the price table, so its cost is not in the estimate: add it to "prices" in chargen.config.json`);
  return unpriced;
}

function countJobs(toSend: number, config: ChargenConfig): number {
  const settings = geminiSettingsSchema.parse(config.gemini);
  return config.mode === 'sync' ? 0 : Math.ceil(toSend / settings.chunkMaxLines);
}

/**
 * What a run would do and cost, spending nothing and writing nothing: per model stage the items, how many are
 * already done, how many would be sent, in how many jobs, at what estimated price. Stages in `skip` count as done.
 */
export async function planRun(context: PipelineContext, options: { forced: ReadonlySet<StageName> }): Promise<RunPlan> {
  const { config } = context;
  const stateDirectory = backendStateDirectory(context.workspace.directory, context.backendIdentity);
  const analysisFresh = !options.forced.has('analyze') && (await analyzeStep.isFresh(context)).fresh;

  let analyze: StagePlan;
  let pendingImages = 0;
  if (analysisFresh) {
    const checkpoint = await readAnalysisState(context.workspace.directory);
    analyze = { items: checkpoint?.records ?? 0, cached: checkpoint?.records ?? 0, toSend: 0, jobs: 0, costUsd: 0, estimated: false };
  } else {
    const collected = await collectInputImages({ inputDirectory: context.inputDirectory, settings: config.analyze, logger: quietLogger, exclude: listWrittenFolders(context), scanned: (await context.listInput()).entries });
    const cachedKeys = await readCachedKeys({ stateDirectory, stage: 'analyze' });
    const template = await readAnalysisTemplate();
    // Characters with the same references share one request; each reference past the first adds its tokens.
    const imagesByKey = new Map(collected.characters.map((character) => [computeAnalysisKey({ images: character.sent, instructionTemplate: template, settings: config.analyze }), character.sent.length]));
    const keys = [...imagesByKey.keys()];
    const cached = keys.filter((key) => cachedKeys.has(key)).length;
    const toSend = keys.length - cached;
    const extraImages = keys.filter((key) => !cachedKeys.has(key)).reduce((sum, key) => sum + (imagesByKey.get(key) ?? 1) - 1, 0);
    pendingImages = toSend;
    analyze = {
      items: keys.length,
      cached,
      toSend,
      jobs: countJobs(toSend, config),
      costUsd: estimateCost({ kind: 'analysis', count: toSend, model: config.analyze.model, prices: config.prices, usage: config.usageEstimate, extraInputTokens: extraImages * analysisImageTokens }),
      estimated: false,
    };
  }

  const compiled = pendingImages === 0 ? await planCompile(context).catch(() => undefined) : undefined;
  let prompts: GenerationPrompt[] | undefined = compiled?.prompts;
  const model = config.compile.model;
  const imageSize = config.compile.imageConfig.imageSize;
  let synthesize: StagePlan;
  if (prompts && compiled) {
    const listing = await listOutputFolder({ outputDirectory: context.outputDirectory, workspaceDirectory: context.workspace.directory });
    // synthesize.sheet: the sheets still to make are asked first (under their own stage), the shots carry the current ones.
    const sheets = config.synthesize.sheet
      ? await planSheets({ analyzed: compiled.records, templates: compiled.templates, compileSettings: config.compile, settings: config.synthesize, backend: context.backendIdentity, listing, prompts })
      : undefined;
    if (sheets) prompts = sheets.prompts;
    const plan = planSynthesis({ prompts, settings: config.synthesize, backend: context.backendIdentity, listing });
    // A request's answer, or the answer to the same request without chargen's own seed (made before seeds were sent).
    const alternatives = new Map<string, string[]>();
    for (const entry of plan.pending) alternatives.set(entry.key, [entry.key, ...(entry.unseeded ? [entry.unseeded.key] : [])]);
    // An answer counts as received only while its image is still stored (`clean --answers` drops them).
    const cached = await readCachedOutcomes({ stateDirectory, stage: 'synthesize', keys: new Set([...alternatives.values()].flat()) });
    const cachedSheets = await readCachedOutcomes({ stateDirectory, stage: 'sheet', keys: new Set((sheets?.sheets ?? []).map((entry) => entry.key)) });
    const isStored = async (key: string, answers = cached) => {
      const outcome = answers.get(key);
      return outcome !== undefined && (await hasStoredFiles({ outcome, blobDirectory: storedAnswersDirectory(stateDirectory), keepThoughts: config.synthesize.keepThoughts }));
    };
    let toSend = 0;
    for (const entry of sheets?.sheets ?? []) toSend += (await isStored(entry.key, cachedSheets)) ? 0 : 1;
    let extraReferences = 0;
    const referencesByKey = new Map(plan.pending.map((entry) => [entry.key, listPromptReferences(entry.prompt).length]));
    for (const [key, keys] of alternatives) {
      let stored = false;
      for (const alternative of keys) stored ||= await isStored(alternative);
      if (stored) continue;
      toSend += 1;
      extraReferences += Math.max(0, (referencesByKey.get(key) ?? 1) - 1);
    }
    const items = prompts.length + (sheets ? compiled.records.length : 0);
    synthesize = {
      items,
      cached: items - toSend,
      toSend,
      jobs: countJobs(toSend, config),
      costUsd: estimateCost({ kind: 'image', count: toSend, model, imageSize, prices: config.prices, usage: config.usageEstimate, extraInputTokens: extraReferences * imageInputTokens }),
      estimated: false,
    };
  } else {
    const items = (analyze.cached + analyze.toSend) * (listShots(config.compile.variants).length + (config.synthesize.sheet ? 1 : 0));
    synthesize = {
      items,
      cached: 0,
      toSend: items,
      jobs: countJobs(items, config),
      costUsd: estimateCost({ kind: 'image', count: items, model, imageSize, prices: config.prices, usage: config.usageEstimate }),
      estimated: true,
    };
  }
  return {
    analyze,
    compile: { items: synthesize.items, estimated: synthesize.estimated },
    synthesize,
    costUsd: analyze.costUsd + synthesize.costUsd,
    unpricedModels: listUnpricedModels({ config, analyze, synthesize, logger: context.logger }),
  };
}
