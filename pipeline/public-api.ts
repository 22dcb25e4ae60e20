/**
 * `chargen`, the library: what the command line does, as functions with typed options and results (docs/library.md).
 * Each function takes its working folder, environment and logger from the caller (it reads no process globals and
 * never exits); a failure that stops a run is thrown as a ChargenError (`exitCodeFor(error)` is what the CLI exits with).
 */
import { join } from 'node:path';
import { createStreamingResultReader } from '../lib/gemini/stream-result-lines.ts';
import type { Logger } from '../lib/logger.ts';
import { packageRoot } from '../lib/package-root.ts';
import type { ChargenConfig } from '../schemas/chargen-config.ts';
import type { StageName } from '../stages/stage-step.ts';
import { extractResultFile, type ExtractResult } from '../stages/synthesize/extract-result-file.ts';
import { readConfigFile, resolveConfig, type ConfigFlags } from './config/load-config.ts';
import { readCodeVersion } from './read-code-version.ts';
import { runPipeline, type PipelineSummary, type RunPipelineOptions } from './run-pipeline.ts';

export { runPipeline, type PipelineSummary, type PipelineOutcome, type RunPipelineOptions } from './run-pipeline.ts';
export type { RunPlan } from './estimate-run.ts';
export { stageNames, type StageName, type StageSummary, type DeadLetter } from '../stages/stage-step.ts';
export { chargenConfigSchema, createConfigJsonSchema, type ChargenConfig } from '../schemas/chargen-config.ts';
export type { ConfigFlags } from './config/load-config.ts';
export type { ExtractResult, ExtractedImage, ExtractFailure } from '../stages/synthesize/extract-result-file.ts';
export { createStreamLogger, createMemoryLogger, type Logger, type ProgressEvent } from '../lib/logger.ts';
export { ChargenError, exitCodes, exitCodeFor, type ExitCode, type ErrorCode } from '../lib/errors.ts';
export { createEmulator, serveEmulator, type Emulator, type EmulatorOptionsInput, type RunningEmulator } from '../emulator/public-api.ts';

/** The JSON Schema of chargen.config.json, as a file (also exported as `chargen/config-schema.json`). */
export const configSchemaPath = join(packageRoot, 'schemas', 'chargen.config.schema.json');

/** chargen's version, from its package.json: what `chargen --version` prints. */
export function readVersion(): Promise<string> {
  return readCodeVersion();
}

/**
 * The settings a run uses, as `chargen run` resolves them: defaults < the config file < CHARGEN_* variables in `env`
 * < `flags`. `configFile` names a file (relative to `cwd`) that must exist; without it `chargen.config.json` in `cwd`
 * is read when there is one. Throws a ChargenError (code `config-invalid`) naming every problem at once.
 */
export async function loadConfig(options: { cwd: string; env?: NodeJS.ProcessEnv; configFile?: string; flags?: ConfigFlags }): Promise<ChargenConfig> {
  const file = await readConfigFile({ cwd: options.cwd, ...(options.configFile ? { path: options.configFile } : {}) });
  return resolveConfig({ ...(file ? { file } : {}), env: options.env ?? {}, flags: options.flags ?? {} });
}

/**
 * One stage alone, as `chargen run --only <stage>`: it reads the checkpoint of the stage before it (which must be
 * current) and brings its own up to date, sending only what no earlier run has been answered for.
 */
export function runStage(stage: StageName, options: Omit<RunPipelineOptions, 'from' | 'only'>): Promise<PipelineSummary> {
  return runPipeline({ ...options, only: stage });
}

/** Shortcuts: `runStage('analyze', options)` and so on. */
export const runAnalyze = (options: Omit<RunPipelineOptions, 'from' | 'only'>) => runStage('analyze', options);
export const runCompile = (options: Omit<RunPipelineOptions, 'from' | 'only'>) => runStage('compile', options);
export const runSynthesize = (options: Omit<RunPipelineOptions, 'from' | 'only'>) => runStage('synthesize', options);

/**
 * `chargen extract`: every image in a batch result file (one downloaded from AI Studio, say) written to
 * `outputDirectory` (created when missing) with its sidecar, named from its line's key; a line that gives no image
 * is a failure with its line number and reason. Thought images are skipped unless `keepThoughts`.
 */
export function extract(options: { resultFile: string; outputDirectory: string; keepThoughts?: boolean; logger: Logger }): Promise<ExtractResult> {
  return extractResultFile({
    resultFile: options.resultFile,
    outputDirectory: options.outputDirectory,
    keepThoughts: options.keepThoughts === true,
    createResultReader: (blobDirectory) => createStreamingResultReader({ blobDirectory }),
    logger: options.logger,
  });
}
