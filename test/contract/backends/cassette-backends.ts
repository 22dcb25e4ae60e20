import { GoogleGenAI } from '@google/genai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveRecordingProxy } from '../../../emulator/cassette/serve-recording-proxy.ts';
import { serveReplayServer } from '../../../emulator/cassette/serve-replay-server.ts';
import { createKeyedRequest } from '../../support/create-keyed-request.ts';
import { startTestEmulator, testApiKey } from '../../support/start-test-emulator.ts';
import type { GeminiBackendDefinition } from '../gemini-backend.ts';
import { everyCapability } from './emulator-backend.ts';

/** What the client sends; the recording proxy puts its own key upstream, and the replay ignores keys. */
const clientApiKey = 'a-client-key-the-proxy-replaces';

function createClient(baseUrl: string): GoogleGenAI {
  return new GoogleGenAI({ apiKey: clientApiKey, apiVersion: 'v1beta', httpOptions: { baseUrl } });
}

/**
 * Two backends that share one cassette: the emulator behind chargen's recording proxy (emulator/cassette), which
 * writes every exchange of the suite to a cassette, then the replay server answering the same suite from that
 * cassette alone. Register them in that order: vitest runs the recording's describe, and closes its proxy (saving
 * the cassette), before the replay's starts. The replay's time is the recording's: each request gets its answers in
 * recorded order, so `clock` and `fresh-state` hold there as they held when recorded.
 */
export function createCassetteBackends(): { recording: GeminiBackendDefinition; replay: GeminiBackendDefinition } {
  const recorded: { cassetteDirectory?: string; upstreamBaseUrl?: string } = {};
  const recording: GeminiBackendDefinition = {
    name: 'emulator behind the cassette recording proxy',
    capabilities: everyCapability,
    async start() {
      const cassetteDirectory = await mkdtemp(join(tmpdir(), 'chargen-contract-cassette-'));
      const emulator = await startTestEmulator();
      const proxy = await serveRecordingProxy({ upstreamBaseUrl: emulator.baseUrl, apiKey: testApiKey, cassetteDirectory, fetch, port: 0 });
      recorded.cassetteDirectory = cassetteDirectory;
      recorded.upstreamBaseUrl = emulator.baseUrl;
      return {
        client: createClient(proxy.baseUrl),
        baseUrl: proxy.baseUrl,
        publicBaseUrl: emulator.baseUrl,
        request: createKeyedRequest({ baseUrl: proxy.baseUrl, apiKey: clientApiKey }),
        advanceClock: async (milliseconds) => emulator.clock.advance(milliseconds),
        stats: emulator.stats,
        reset: async () => emulator.emulator.reset(),
        async stop() {
          await proxy.close();
          await emulator.close();
        },
      };
    },
  };
  const replay: GeminiBackendDefinition = {
    name: 'cassette replay',
    capabilities: everyCapability,
    async start() {
      const { cassetteDirectory, upstreamBaseUrl } = recorded;
      if (cassetteDirectory === undefined || upstreamBaseUrl === undefined) throw new Error('nothing was recorded: the recording backend must run first');
      const server = await serveReplayServer({ cassetteDirectory, port: 0 });
      return {
        client: createClient(server.baseUrl),
        baseUrl: server.baseUrl,
        // File resources are replayed as recorded, naming the emulator that answered them.
        publicBaseUrl: upstreamBaseUrl,
        request: createKeyedRequest({ baseUrl: server.baseUrl, apiKey: clientApiKey }),
        advanceClock: async () => undefined,
        reset: async () => undefined,
        misses: () => server.misses().map((miss) => miss.message),
        async stop() {
          await server.close();
          await rm(cassetteDirectory, { recursive: true, force: true });
        },
      };
    },
  };
  return { recording, replay };
}
