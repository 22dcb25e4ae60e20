import type { GoogleGenAI } from '@google/genai';
import { describeRetiredModel, findNearestModelIds, findReplacementChain, findRetiredModel, findRoutedModel, findServedModel, toModelId } from '../../schemas/gemini-models.ts';
import { ChargenError } from '../errors.ts';
import { callWithRetry, toGeminiCallError, type RetryEnvironment, type RetryPolicy } from './call-with-retry.ts';

/** A model a run will call, the method it will call it with, and the config key that names it. */
export interface ModelUse {
  model: string;
  method: 'batchGenerateContent' | 'generateContent';
  setting: string;
}

/** A configured model the API does not serve (or not for the method chargen calls): fix the config, exit 2. */
export class ModelNotServedError extends ChargenError {
  readonly model: string;

  constructor(options: { model: string; message: string; cause?: unknown }) {
    super({ code: 'model-not-served', message: options.message, cause: options.cause });
    this.model = options.model;
  }
}

/** Pure: what to move to from a model that is gone (retired, or routed to another). */
export function describeReplacement(model: string): string | undefined {
  const routed = findRoutedModel(model);
  return describeRetiredModel(model) ?? (routed ? `${routed.id} is retired; use ${routed.routedTo}` : undefined);
}

/**
 * Pure: what to tell the user about the models of a run before it starts, from the catalog: a model answered by
 * another (billed at that one's rates), a deprecated model, sampling parameters a model ignores or is hurt by.
 */
export function describeModelWarnings(options: { uses: readonly ModelUse[]; sampling: Record<string, number>; samplingSetting: string; analysisModel: string }): string[] {
  const warnings: string[] = [];
  for (const use of options.uses) {
    const routed = findRoutedModel(use.model);
    if (routed) warnings.push(`${use.setting}: ${routed.id} is retired and answered by ${routed.routedTo} (since ${routed.since}, billed at its rates); set ${routed.routedTo}`);
    const deprecation = findServedModel(use.model)?.deprecation;
    if (deprecation) {
      const shutdown = deprecation.shutdown ? `shuts down on ${deprecation.shutdown}` : 'is deprecated (no shutdown date yet)';
      warnings.push(`${use.setting}: ${toModelId(use.model)} ${shutdown}; Google names ${deprecation.replacement} to move to`);
    }
  }
  const names = Object.keys(options.sampling);
  const behaviour = findServedModel(options.analysisModel)?.samplingParameters;
  if (names.length > 0 && behaviour === 'ignored') {
    warnings.push(`${options.samplingSetting}: ${names.join(', ')} sent as set, but ${toModelId(options.analysisModel)} ignores sampling parameters (deprecated on 2026-07-21)`);
  } else if (names.length > 0 && behaviour === 'discouraged') {
    warnings.push(`${options.samplingSetting}: ${names.join(', ')} sent as set; Google's Gemini 3 guide advises leaving them out (lower temperatures may make the model loop)`);
  }
  return warnings;
}

async function listServedModelIds(options: { client: GoogleGenAI; retry: { policy: RetryPolicy; environment: RetryEnvironment } }): Promise<string[]> {
  return callWithRetry({
    operation: 'models.list',
    ...options.retry,
    call: async () => {
      const ids: string[] = [];
      // The list answers 50 a page without pageSize; 1000 takes every model in one page (REST reference).
      for await (const model of await options.client.models.list({ config: { pageSize: 1000 } })) if (model.name) ids.push(toModelId(model.name));
      return ids;
    },
  });
}

/** What the API says of one model a run will call. */
export interface ModelReport {
  use: ModelUse;
  /** `served`: it takes the method chargen calls; `not-served`: the API answers 404; `wrong-method`: served, not for that method. */
  status: 'served' | 'not-served' | 'wrong-method';
  /** For people: the model, the problem and what to move to (the setting left out); absent when served. */
  description?: string;
  /** What to set instead: the catalog's replacement, else the served id nearest its name. */
  suggestion?: string;
  cause?: unknown;
}

/**
 * Asks the API about each model (`models.get`, once per id) and reports each use: a model that is not served, or
 * does not take the method chargen calls, is described naming its replacement when it is a known retired id, and
 * the served models nearest its name. Errors other than a 404 (a refused key, a lost connection) are thrown.
 */
export async function inspectServedModels(options: {
  client: GoogleGenAI;
  uses: readonly ModelUse[];
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
}): Promise<ModelReport[]> {
  const answers: (Omit<ModelReport, 'description' | 'suggestion'> & { problem?: string })[] = [];
  const asked = new Map<string, Promise<{ methods?: string[]; missing?: unknown }>>();
  for (const use of options.uses) {
    const id = toModelId(use.model);
    if (!asked.has(id)) {
      asked.set(
        id,
        callWithRetry({ operation: `models.get ${id}`, ...options.retry, call: () => options.client.models.get({ model: id }) }).then(
          (model) => ({ methods: model.supportedActions ?? [] }),
          (error: unknown) => {
            if (toGeminiCallError(`models.get ${id}`, error).status === 404) return { missing: error };
            throw error;
          },
        ),
      );
    }
    const answer = await asked.get(id);
    if (answer?.missing !== undefined) answers.push({ use, status: 'not-served', problem: 'is not served by the API', cause: answer.missing });
    else if (answer?.methods && answer.methods.length > 0 && !answer.methods.includes(use.method)) {
      answers.push({ use, status: 'wrong-method', problem: `is served, but not for ${use.method} (it takes ${answer.methods.join(', ')})` });
    } else answers.push({ use, status: 'served' });
  }
  const served = answers.some((answer) => answer.status === 'not-served') ? await listServedModelIds(options).catch(() => []) : [];
  return answers.map(({ problem, ...report }) => {
    if (problem === undefined) return report;
    const { use } = report;
    const replacement = describeReplacement(use.model);
    // The list can still name shut-down ids (a recorded list of 2026-08 had the -preview image ids): never offer them.
    const nearest = findNearestModelIds({ id: use.model, candidates: served.filter((id) => !findRetiredModel(id)), count: 3 });
    const advice = replacement ? `: ${replacement}` : nearest.length > 0 ? `; served models nearest its name: ${nearest.join(', ')}` : '';
    const description = `${toModelId(use.model)} ${problem}${advice}${replacement && nearest.length > 0 ? ` (nearest served: ${nearest.join(', ')})` : ''}`;
    const suggestion = findReplacementChain(use.model).at(-1) ?? nearest[0];
    return { ...report, description, ...(suggestion !== undefined ? { suggestion } : {}) };
  });
}

/**
 * Asks the API about each model a run will call (`models.get`, once each), before anything is uploaded or sent. A
 * model that is not served, or does not take the method chargen calls, stops the run naming it, its replacement
 * when it is a known retired id, and the served models nearest its name.
 */
export async function checkServedModels(options: {
  client: GoogleGenAI;
  uses: readonly ModelUse[];
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
}): Promise<void> {
  const problems = (await inspectServedModels(options)).filter((report) => report.status !== 'served');
  if (problems.length === 0) return;
  const first = problems[0];
  throw new ModelNotServedError({
    model: first?.use.model ?? '',
    message: `${problems.map((report) => `${report.use.setting}: ${report.description}`).join('\n')}\nSet the model in chargen.config.json and run again; nothing was uploaded or sent.`,
    cause: first?.cause,
  });
}
