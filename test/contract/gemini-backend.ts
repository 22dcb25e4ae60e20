import type { GoogleGenAI } from '@google/genai';

/**
 * What a contract case may count on from a backend beyond the Gemini API itself. A case names what it needs; on a
 * backend without it the case is skipped, its title saying why, so nothing is dropped silently.
 */
export const backendCapabilities = {
  clock: 'time moved by hand (job latency, file expiry)',
  'fresh-state': 'an empty project for each case',
  'emulator-content': 'the emulator’s own model catalog and stand-in answers (marker words, text naming the image)',
  unmetered: 'free calls (the real API runs only the cheap cases: models.get, a file uploaded and deleted, a batch cancelled)',
} as const;

export type BackendCapability = keyof typeof backendCapabilities;

/** One running Gemini backend, as the contract suite drives it: the real SDK, plus raw HTTP for what the SDK hides. */
export interface GeminiBackend {
  /** The SDK, pointed at the backend. */
  client: GoogleGenAI;
  /** Where the client talks (a proxy or replay server, or the API itself). */
  baseUrl: string;
  /** The origin the backend names its files under (`File.uri`): the upstream's, when a proxy or replay stands between. */
  publicBaseUrl: string;
  /** Raw HTTP with the backend's key, JSON when `json` is given (as the emulator's own test helper does). */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** Moves the backend's time; where time is replayed, the answers come in recorded order and this does nothing. */
  advanceClock(milliseconds: number): Promise<void>;
  /** The emulator's counters, where there is an emulator to ask. */
  stats?: () => Promise<Record<string, unknown>>;
  /** Back to an empty project between cases, where the backend can. */
  reset(): Promise<void>;
  /** Requests the backend had no answer for (a replay): each case must leave none. */
  misses?: () => string[];
  stop(): Promise<void>;
}

export interface GeminiBackendDefinition {
  name: string;
  capabilities: readonly BackendCapability[];
  start(): Promise<GeminiBackend>;
}
