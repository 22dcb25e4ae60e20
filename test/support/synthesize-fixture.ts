import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GeminiExecutor } from '../../lib/gemini/gemini-executor.ts';
import { readResultLines, type ResultLineReader } from '../../lib/gemini/read-result-lines.ts';
import type { AnalysisRecord } from '../../schemas/analysis.ts';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { compilePrompts } from '../../stages/compile/core/compile-prompts.ts';
import { compileSettingsSchema, type CompileSettings } from '../../schemas/compile-settings.ts';
import { compilePromptTemplates, readTemplateSources } from '../../stages/compile/load-prompt-templates.ts';
import { synthesizeImages, type SynthesizeResult } from '../../stages/synthesize/synthesize-images.ts';
import { synthesizeSettingsSchema, type SynthesizeSettings } from '../../schemas/synthesize-settings.ts';
import { uploadFiles } from '../../lib/gemini/upload-files.ts';
import { openUploadRegistry } from '../../lib/gemini/upload-registry.ts';
import { createGeminiFixture, type GeminiFixture } from './gemini-fixture.ts';
import { createSamplePng } from './sample-images.ts';
import { createAnalyzedImages } from './sample-records.ts';

export interface SynthesizeFixture extends GeminiFixture {
  outputDirectory: string;
  inputDirectory: string;
  /** Prompts compiled by the real compiler from generated records, 1K images unless asked. */
  createPrompts(options?: { count?: number; prefix?: string; settings?: Partial<CompileSettings> }): Promise<{ prompts: GenerationPrompt[]; records: Map<string, AnalysisRecord> }>;
  synthesize(options: {
    prompts: readonly GenerationPrompt[];
    records?: ReadonlyMap<string, AnalysisRecord>;
    settings?: Partial<SynthesizeSettings>;
    /** Another output folder than the fixture's own. */
    outputDirectory?: string;
    executor?: GeminiExecutor;
    createResultReader?: (blobDirectory: string) => ResultLineReader;
  }): Promise<SynthesizeResult>;
}

export async function createSynthesizeFixture(...parameters: Parameters<typeof createGeminiFixture>): Promise<SynthesizeFixture> {
  const gemini = await createGeminiFixture(...parameters);
  const root = await mkdtemp(join(tmpdir(), 'chargen-synthesize-'));
  const outputDirectory = join(root, 'final_characters');
  const inputDirectory = join(root, 'input_images');
  await mkdir(inputDirectory, { recursive: true });
  const templates = compilePromptTemplates(await readTemplateSources(join(import.meta.dirname, '..', '..', 'templates')));
  return {
    ...gemini,
    outputDirectory,
    inputDirectory,
    async createPrompts(options = {}) {
      const analyzed = createAnalyzedImages(options.count ?? 3, options.prefix);
      for (const entry of analyzed) await writeFile(join(inputDirectory, entry.sourcePath), createSamplePng(entry.sha256));
      const settings = compileSettingsSchema.parse({ imageConfig: { aspectRatio: '3:4', imageSize: '1K' }, ...options.settings });
      return { prompts: compilePrompts({ records: analyzed, templates, settings }), records: new Map(analyzed.map((entry) => [entry.sourcePath, entry.record])) };
    },
    synthesize(options) {
      return synthesizeImages({
        prompts: options.prompts,
        records: options.records ?? new Map(),
        settings: synthesizeSettingsSchema.parse(options.settings ?? {}),
        folders: { input: inputDirectory, output: options.outputDirectory ?? outputDirectory, workspace: gemini.workspaceDirectory },
        backend: {
          identity: 'emulator',
          blobDirectory: join(gemini.workspaceDirectory, 'blobs', 'synthesize'),
          upload: async (candidates, uploadOptions) => {
            const registry = await openUploadRegistry({ stateDirectory: gemini.workspaceDirectory, requiredLifetimeMilliseconds: 0 });
            try {
              const retry = { policy: { attempts: 3, initialDelayMilliseconds: 10, maxDelayMilliseconds: 100 }, environment: gemini.environment };
              return await uploadFiles({ client: gemini.emulator.client, registry, candidates, concurrency: 4, now: gemini.environment.now, retry, ...(uploadOptions?.refresh ? { refresh: uploadOptions.refresh } : {}) });
            } finally {
              await registry.close();
            }
          },
          executor: options.executor ?? gemini.createBatchExecutor(),
          createResultReader: options.createResultReader ?? (() => readResultLines),
        },
        logger: gemini.logger,
      });
    },
    async close() {
      await gemini.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
