import { GoogleGenAI } from '@google/genai';
import { createHash } from 'node:crypto';
import { createManualClock, type ManualClock } from '../../emulator/clock.ts';
import type { EmulatorDependencies } from '../../emulator/create-emulator.ts';
import type { EmulatorOptionsInput } from '../../emulator/emulator-options.ts';
import { serveEmulator, type RunningEmulator } from '../../emulator/serve-emulator.ts';
import { createKeyedRequest } from './create-keyed-request.ts';

export const testApiKey = 'test-key-not-a-secret';

export interface TestEmulator extends RunningEmulator {
  clock: ManualClock;
  /** The real SDK, pointed at this emulator. */
  client: GoogleGenAI;
  createClient(options?: { apiKey?: string }): GoogleGenAI;
  /** Raw HTTP against the emulator, for what the SDK hides (batchStats, error bodies). */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  stats(): Promise<Record<string, unknown>>;
}

/**
 * Ids from a seed instead of random bytes, lowercase alphanumerics as the emulator's own: what the emulator derives
 * from an id (the seeded order of a Vertex AI job's results) is then the same on every run.
 */
export function createSeededIds(seed: string): (length: number) => string {
  let count = 0;
  return (length) => {
    count += 1;
    const bytes = createHash('sha256').update(`${seed}/${count}`).digest();
    return Array.from({ length }, (_unused, index) => idAlphabet[(bytes[index % bytes.length] ?? 0) % idAlphabet.length]).join('');
  };
}

const idAlphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** An emulator on port 0 with a hand-moved clock and no batch latency unless asked; random ids unless given `generateId`. */
export async function startTestEmulator(options: EmulatorOptionsInput = {}, dependencies: Pick<EmulatorDependencies, 'generateId'> = {}): Promise<TestEmulator> {
  const clock = createManualClock(Date.UTC(2026, 10, 21, 12));
  const running = await serveEmulator({
    emulator: { ...options, latency: { pendingMilliseconds: 1_000, runningMilliseconds: 1_000, ...options.latency } },
    dependencies: { clock, ...dependencies },
  });
  const createClient = (clientOptions: { apiKey?: string } = {}) =>
    new GoogleGenAI({ apiKey: clientOptions.apiKey ?? testApiKey, apiVersion: 'v1beta', httpOptions: { baseUrl: running.baseUrl } });
  const request = createKeyedRequest({ baseUrl: running.baseUrl, apiKey: testApiKey });
  return {
    ...running,
    clock,
    client: createClient(),
    createClient,
    request,
    stats: async () => (await (await fetch(`${running.baseUrl}/_emulator/stats`)).json()) as Record<string, unknown>,
  };
}
