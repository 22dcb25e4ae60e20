import type { GenerateContentParameters, GoogleGenAI } from '@google/genai';
import type { Logger } from '../logger.ts';
import { formatCount } from '../format-count.ts';
import { mapWithConcurrency } from '../map-with-concurrency.ts';
import { callWithRetry, type RetryEnvironment } from './call-with-retry.ts';
import { separateMalformedLines } from './check-request-line.ts';
import type { ExecuteReport, GeminiExecutor } from './gemini-executor.ts';
import { type GeminiSettings } from '../../schemas/gemini-settings.ts';
import { toRetryPolicy } from './apply-gemini-settings.ts';
import { isMissingFileError, judgeResponse, type LineOutcome, type RequestLine } from './line-outcome.ts';
import { isFinal, openResultCache } from './result-cache.ts';
import { createSharedResultCaches, findAnsweredKeys } from './shared-result-caches.ts';

const requestFieldsInConfig = ['systemInstruction', 'safetySettings', 'tools', 'toolConfig', 'cachedContent'] as const;

/** The REST request a batch line carries, as the SDK's generateContent takes it (its `config` is flattened). */
export function toSdkParameters(model: string, request: Record<string, unknown>): GenerateContentParameters {
  const generationConfig = (request['generationConfig'] ?? {}) as Record<string, unknown>;
  const config: Record<string, unknown> = { ...generationConfig };
  for (const field of requestFieldsInConfig) if (request[field] !== undefined) config[field] = request[field];
  return { model, contents: request['contents'] as GenerateContentParameters['contents'], config };
}

function toPlainResponse(response: unknown): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(response)) as Record<string, unknown>;
  delete plain['sdkHttpResponse'];
  return plain;
}

/**
 * The same lines through `models.generateContent`: full price, but answers in seconds. For small runs and previews;
 * the same outcomes, cache and rounds as the batch executor.
 */
export function createSyncExecutor(options: {
  client: GoogleGenAI;
  workspace: { directory: string };
  settings: GeminiSettings;
  environment: RetryEnvironment;
  logger: Logger;
}): GeminiExecutor {
  const { settings } = options;
  const policy = toRetryPolicy(settings);
  // Chunks of a run execute side by side: one open cache per stage for all of them (see shared-result-caches.ts).
  const caches = createSharedResultCaches({ open: (stage) => openResultCache({ stateDirectory: options.workspace.directory, stage }) });

  return {
    findAnswered: (findOptions) => findAnsweredKeys(caches, findOptions),
    async execute(executeOptions) {
      const { cache, release } = await caches.acquire(executeOptions.stage);
      const report: ExecuteReport = { outcomes: new Map(), cachedKeys: 0, sentLines: 0, jobsCreated: 0, jobsAdopted: 0, pendingJobs: 0 };
      try {
        const todo: RequestLine[] = [];
        const seen = new Set<string>();
        for (const line of executeOptions.lines) {
          if (seen.has(line.key)) continue;
          seen.add(line.key);
          const cached = cache.get(line.key);
          if (cached && (!executeOptions.isCachedUsable || (await executeOptions.isCachedUsable(cached)))) {
            report.outcomes.set(line.key, cached);
            report.cachedKeys += 1;
          } else {
            todo.push(line);
          }
        }
        // The same local check as the batch executor's, so a line refused in one mode is refused in the other.
        const { wellFormed, refused } = separateMalformedLines({ lines: todo, stage: executeOptions.stage, logger: options.logger });
        for (const outcome of refused) report.outcomes.set(outcome.key, outcome);
        if (report.outcomes.size > 0) options.logger.progress?.({ stage: executeOptions.stage, withoutRequest: report.outcomes.size });
        await mapWithConcurrency({
          items: wellFormed,
          concurrency: settings.syncConcurrency,
          work: async (line) => {
            let outcome: LineOutcome | undefined;
            for (let round = 1; round <= settings.maxRounds; round += 1) {
              report.sentLines += 1;
              try {
                const response = await callWithRetry({
                  operation: `generateContent ${line.key.slice(0, 12)}`,
                  policy,
                  environment: options.environment,
                  call: () => options.client.models.generateContent(toSdkParameters(executeOptions.model, line.request)),
                });
                const { prepareResponse, validate } = executeOptions;
                const plain = toPlainResponse(response);
                outcome = await judgeResponse({ key: line.key, response: prepareResponse ? await prepareResponse(plain) : plain, ...(validate ? { validate } : {}) });
              } catch (error) {
                const failure = error as { message?: string; isRetryable?: boolean; status?: number };
                // A referenced file that is gone answers 403/404: mended by uploading it again, so never final.
                const missingFile = isMissingFileError({ code: failure.status, message: failure.message });
                outcome = {
                  key: line.key,
                  status: 'failed',
                  reason: failure.message ?? String(error),
                  retryable: (failure.isRetryable ?? false) || missingFile,
                  ...(failure.status !== undefined ? { error: { code: failure.status } } : {}),
                };
              }
              if (isFinal(outcome)) break;
            }
            if (!outcome) return;
            // Only a final outcome finishes the item: a retryable one may be asked again (an upload made anew).
            if (isFinal(outcome)) options.logger.progress?.({ stage: executeOptions.stage, answered: 1 });
            if (outcome.status === 'failed' && outcome.retryable) {
              outcome = { ...outcome, reason: `${outcome.reason} (after ${formatCount(settings.maxRounds, 'round')})` };
            }
            await cache.put(outcome);
            report.outcomes.set(line.key, outcome);
          },
        });
        return report;
      } finally {
        await release();
      }
    },
  };
}
