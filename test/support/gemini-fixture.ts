import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBatchExecutor, type ExecutorEnvironment } from '../../lib/gemini/batch-executor.ts';
import type { JobLimiter } from '../../lib/gemini/job-limiter.ts';
import { createGeminiClient } from '../../lib/gemini/create-gemini-client.ts';
import { emulatorGeminiSettings, geminiSettingsSchema, type GeminiSettingsInput } from '../../schemas/gemini-settings.ts';
import type { ResultLineReader } from '../../lib/gemini/read-result-lines.ts';
import type { ResultFileGate } from '../../lib/gemini/result-file-gate.ts';
import type { StorageBudget } from '../../lib/gemini/storage-budget.ts';
import { createSyncExecutor } from '../../lib/gemini/sync-executor.ts';
import { createMemoryLogger } from '../../lib/logger.ts';
import { startTestEmulator, testApiKey, type TestEmulator } from './start-test-emulator.ts';
import type { EmulatorOptionsInput } from '../../emulator/emulator-options.ts';

export interface GeminiFixture {
  emulator: TestEmulator;
  workspaceDirectory: string;
  environment: ExecutorEnvironment & { sleeps: number[] };
  logger: ReturnType<typeof createMemoryLogger>;
  createBatchExecutor(options?: { settings?: GeminiSettingsInput; readResults?: ResultLineReader; jobLimiter?: JobLimiter; resultFileGate?: ResultFileGate; storage?: StorageBudget }): ReturnType<typeof createBatchExecutor>;
  createSyncExecutor(options?: { settings?: GeminiSettingsInput }): ReturnType<typeof createSyncExecutor>;
  close(): Promise<void>;
}

/** Seeded dice in [0, 1), so a test's jitter replays. */
export function createSeededRandom(seed = 1): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 0x1_0000_0000;
  };
}

/**
 * The Gemini layer on the emulator through the real SDK. Its `sleep` moves the emulator's clock instead of waiting,
 * so jobs advance exactly as far as the executor waited, and no test sleeps.
 */
export async function createGeminiFixture(emulatorOptions: EmulatorOptionsInput = {}): Promise<GeminiFixture> {
  const emulator = await startTestEmulator(emulatorOptions);
  const workspaceDirectory = await mkdtemp(join(tmpdir(), 'chargen-workspace-'));
  const sleeps: number[] = [];
  const environment = {
    sleeps,
    sleep: async (milliseconds: number) => {
      sleeps.push(milliseconds);
      emulator.clock.advance(Math.ceil(milliseconds));
    },
    random: createSeededRandom(),
    now: () => emulator.clock.now(),
  };
  const logger = createMemoryLogger();
  const connection = { apiKey: testApiKey, baseUrl: emulator.baseUrl };
  const client = createGeminiClient(connection);
  const settingsOf = (input: GeminiSettingsInput = {}) => geminiSettingsSchema.parse({ ...emulatorGeminiSettings, ...input });
  return {
    emulator,
    workspaceDirectory,
    environment,
    logger,
    createBatchExecutor: (options = {}) =>
      createBatchExecutor({
        client,
        connection,
        workspace: { directory: workspaceDirectory, id: 'ws1' },
        settings: settingsOf(options.settings),
        environment,
        logger,
        ...(options.readResults ? { readResults: options.readResults } : {}),
        ...(options.jobLimiter ? { jobLimiter: options.jobLimiter } : {}),
        ...(options.resultFileGate ? { resultFileGate: options.resultFileGate } : {}),
        ...(options.storage ? { storage: options.storage } : {}),
      }),
    createSyncExecutor: (options = {}) =>
      createSyncExecutor({ client, workspace: { directory: workspaceDirectory }, settings: settingsOf(options.settings), environment, logger }),
    async close() {
      await emulator.close();
      await rm(workspaceDirectory, { recursive: true, force: true });
    },
  };
}

/** Text-only analysis-like lines: cheap for the emulator, distinct per key. */
export function createTextLines(count: number, prefix = 'line'): { key: string; request: Record<string, unknown> }[] {
  return Array.from({ length: count }, (_unused, index) => ({
    key: `${prefix}-${index}`,
    request: {
      contents: [{ role: 'user', parts: [{ text: `Describe character number ${index} of ${prefix}.` }] }],
      generationConfig: {
        responseMimeType: 'application/json',
        responseSchema: { type: 'OBJECT', properties: { name: { type: 'STRING' }, age: { type: 'INTEGER', minimum: 1, maximum: 99 } }, required: ['name', 'age'] },
      },
    },
  }));
}
