import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { analysisCheckpointPath, writeAnalysisCheckpoint } from '../stages/analyze/analysis-checkpoint.ts';
import { analyzeImages } from '../stages/analyze/analyze-images.ts';
import { analyzeSettingsSchema } from '../stages/analyze/analyze-settings.ts';
import { connectBackend, type BackendChoice } from './connect-backend.ts';
import { createBatchExecutor } from './gemini/batch-executor.ts';
import { geminiSettingsSchema } from './gemini/gemini-settings.ts';
import { createSyncExecutor } from './gemini/sync-executor.ts';
import { uploadFiles } from './gemini/upload-files.ts';
import { openUploadRegistry } from './gemini/upload-registry.ts';
import type { Logger } from './logger.ts';
import { openWorkspace } from './workspace/open-workspace.ts';

const packageRoot = join(import.meta.dirname, '..');

export interface RunAnalyzeOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  input: string;
  workdir: string;
  backend: BackendChoice;
  mode: 'batch' | 'sync';
}

export interface StageSummary {
  status: 'done' | 'done-with-failures';
  items: number;
  succeeded: number;
  failed: number;
  cached: number;
  sent: number;
  jobsCreated: number;
  checkpoint: string;
}

/** `chargen run --only analyze`: the analyze stage end to end, leaving its checkpoint in the workspace. */
export async function runAnalyze(options: RunAnalyzeOptions): Promise<StageSummary> {
  const inputDirectory = resolve(options.cwd, options.input);
  const workspace = await openWorkspace({ directory: resolve(options.cwd, options.workdir), now: Date.now });
  const backend = await connectBackend({ choice: options.backend, cwd: options.cwd, env: options.env, logger: options.logger });
  const settings = geminiSettingsSchema.parse(backend.settingsOverrides);
  const environment = {
    sleep: (milliseconds: number) => new Promise<void>((done) => setTimeout(done, milliseconds)),
    random: Math.random,
    now: Date.now,
    fetch: globalThis.fetch,
  };
  const registry = await openUploadRegistry({
    path: join(workspace.directory, 'uploads.jsonl'),
    safetyMarginMilliseconds: settings.uploadSafetyMarginMilliseconds,
    onSkippedLine: (line, reason) => options.logger.warn(`uploads.jsonl line ${line}: ${reason}`),
  });
  try {
    const executor =
      options.mode === 'sync'
        ? createSyncExecutor({ client: backend.client, workspace, settings, environment, logger: options.logger })
        : createBatchExecutor({ client: backend.client, connection: backend.connection, workspace, settings, environment, logger: options.logger });
    const retry = { policy: { attempts: settings.retryAttempts, initialDelayMilliseconds: settings.retryInitialMilliseconds, maxDelayMilliseconds: settings.retryMaxMilliseconds }, environment };
    let report = { cachedKeys: 0, sentLines: 0, jobsCreated: 0 };
    const result = await analyzeImages({
      inputDirectory,
      settings: analyzeSettingsSchema.parse({}),
      instructionTemplate: await readFile(join(packageRoot, 'templates', 'analysis.hbs'), 'utf8'),
      upload: (candidates) => uploadFiles({ client: backend.client, registry, candidates, concurrency: settings.uploadConcurrency, now: Date.now, retry }),
      executor: {
        execute: async (executeOptions) => {
          const executed = await executor.execute(executeOptions);
          report = executed;
          return executed;
        },
      },
      logger: options.logger,
    });
    await writeAnalysisCheckpoint(workspace.directory, result);
    return {
      status: result.failures.length > 0 ? 'done-with-failures' : 'done',
      items: result.records.length + result.failures.length,
      succeeded: result.records.length,
      failed: result.failures.length,
      cached: report.cachedKeys,
      sent: report.sentLines,
      jobsCreated: report.jobsCreated,
      checkpoint: analysisCheckpointPath(workspace.directory),
    };
  } finally {
    await registry.close();
    await backend.close();
  }
}
