import { startTestEmulator } from '../../support/start-test-emulator.ts';
import { backendCapabilities, type BackendCapability, type GeminiBackend, type GeminiBackendDefinition } from '../gemini-backend.ts';

export const everyCapability = Object.keys(backendCapabilities) as BackendCapability[];

/** The emulator on port 0 with a hand-moved clock, as test/emulator/ starts it: every case runs here. */
export async function startEmulatorBackend(): Promise<GeminiBackend> {
  const emulator = await startTestEmulator();
  return {
    client: emulator.client,
    baseUrl: emulator.baseUrl,
    publicBaseUrl: emulator.baseUrl,
    request: emulator.request,
    advanceClock: async (milliseconds) => emulator.clock.advance(milliseconds),
    stats: emulator.stats,
    reset: async () => emulator.emulator.reset(),
    stop: () => emulator.close(),
  };
}

export const emulatorBackend: GeminiBackendDefinition = { name: 'emulator', capabilities: everyCapability, start: startEmulatorBackend };
