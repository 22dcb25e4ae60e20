import { toGeminiCallError } from '../../../lib/gemini/call-with-retry.ts';
import { createGeminiClient } from '../../../lib/gemini/create-gemini-client.ts';
import { createGeminiBatchService } from '../../../lib/gemini/gemini-batch-service.ts';
import { createMemoryLogger } from '../../../lib/logger.ts';
import { emulatorGeminiSettings, geminiSettingsSchema } from '../../../schemas/gemini-settings.ts';
import { startTestEmulator, testApiKey } from '../../support/start-test-emulator.ts';
import { createCountingRetry } from '../../support/use-storage-emulator.ts';
import { openEmulatorWorkspace, type RunningBatchService } from './batch-service-steps.ts';
import { testBatchService } from './test-batch-service.ts';

/** The Gemini Developer API's service (Files API, `batches`) through the real SDK, on the emulator with a hand-moved clock. */
async function startGeminiBatchService(): Promise<RunningBatchService> {
  const emulator = await startTestEmulator();
  const { workspace, reset, stop } = await openEmulatorWorkspace(emulator);
  const connection = { apiKey: testApiKey, baseUrl: emulator.baseUrl };
  const client = createGeminiClient(connection);
  const service = createGeminiBatchService({
    client,
    connection,
    workspace,
    settings: geminiSettingsSchema.parse(emulatorGeminiSettings),
    retry: createCountingRetry(),
    now: () => emulator.clock.now(),
    logger: createMemoryLogger(),
  });
  return {
    service,
    workspace,
    advance: (milliseconds) => emulator.clock.advance(milliseconds),
    async hasRequestFile(inputName) {
      try {
        await client.files.get({ name: inputName });
        return true;
      } catch (caught) {
        // The Files API answers a deleted (or expired) file with 403 PERMISSION_DENIED, as the emulator documents.
        if (toGeminiCallError('files.get', caught).status === 403) return false;
        throw caught;
      }
    },
    missingFileUri: `${emulator.baseUrl}/v1beta/files/neveruploaded`,
    unknownJobName: 'batches/neverwascreated0000000000000000000',
    resultLocationPattern: /^files\/batch-[a-z0-9]{36}$/,
    // files.delete of a deleted file: 403 PERMISSION_DENIED, what the real Files API answers for a missing file.
    deleteOfGoneRequestFile: { rejectsWithStatus: 403 },
    // batches.create reads its file first: a deleted one is a 404 NOT_FOUND, and no job exists.
    createFromGoneRequestFile: { rejectsWithStatus: 404 },
    reset,
    stop,
  };
}

testBatchService({ name: 'Gemini Developer API (emulator)', start: startGeminiBatchService });
