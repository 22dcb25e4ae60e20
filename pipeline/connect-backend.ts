import type { GoogleGenAI } from '@google/genai';
import { createHash } from 'node:crypto';
import { ChargenError } from './errors.ts';
import { createGeminiClient, resolveGeminiConnection, type GeminiConnection } from './gemini/create-gemini-client.ts';
import { emulatorGeminiSettings, type GeminiSettingsInput } from './gemini/gemini-settings.ts';
import type { Logger } from './logger.ts';

export type BackendChoice = 'auto' | 'gemini' | 'emulator';

export interface Backend {
  kind: 'gemini' | 'emulator';
  /**
   * Which answers this backend gives, naming its caches and job records in the workspace: `gemini` (the real API),
   * `emulator` (the built-in one), or `endpoint-<hash>` for a CHARGEN_BASE_URL. Answers never cross backends.
   */
  identity: string;
  /** The built-in emulator lives only as long as this process: job records and uploads from an earlier one are void. */
  ephemeral: boolean;
  connection: GeminiConnection;
  client: GoogleGenAI;
  /** Shorter polls against an emulator, whose jobs finish in seconds. */
  settingsOverrides: GeminiSettingsInput;
  close(): Promise<void>;
}

function identify(connection: GeminiConnection | undefined, useEmulator: boolean): string {
  if (useEmulator || !connection) return 'emulator';
  if (connection.baseUrl === undefined) return 'gemini';
  return `endpoint-${createHash('sha256').update(connection.baseUrl.replace(/\/+$/, '')).digest('hex').slice(0, 12)}`;
}

/** Whether a base URL is this machine (an emulator, a recording proxy): its jobs finish in seconds, not hours. */
export function isLoopbackUrl(url: string | undefined): boolean {
  return url !== undefined && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/.test(url);
}

/** The backend's identity, known without connecting (fingerprints need it before anything starts). */
export async function resolveBackendIdentity(options: { choice: BackendChoice; cwd: string; env: NodeJS.ProcessEnv }): Promise<string> {
  const found = await resolveGeminiConnection({ cwd: options.cwd, env: options.env });
  return identify(found, options.choice === 'emulator' || (options.choice === 'auto' && !found));
}

/**
 * `auto`: the real API when a key is set, otherwise the built-in emulator, announced in one line. CHARGEN_BASE_URL
 * points either at any compatible endpoint (a running `chargen emulator`, say).
 */
export async function connectBackend(options: { choice: BackendChoice; cwd: string; env: NodeJS.ProcessEnv; logger: Logger }): Promise<Backend> {
  const found = await resolveGeminiConnection({ cwd: options.cwd, env: options.env });
  const useEmulator = options.choice === 'emulator' || (options.choice === 'auto' && !found);
  if (!useEmulator) {
    if (!found) {
      throw new ChargenError({
        code: 'missing-api-key',
        message: '--backend gemini needs an API key: set GEMINI_API_KEY (or GOOGLE_API_KEY) in the environment or in .env. Get one at https://aistudio.google.com/apikey.',
      });
    }
    const pointsAtLoopback = isLoopbackUrl(found.baseUrl);
    return {
      kind: 'gemini',
      identity: identify(found, false),
      ephemeral: false,
      connection: found,
      client: createGeminiClient(found),
      settingsOverrides: pointsAtLoopback ? emulatorGeminiSettings : {},
      close: async () => undefined,
    };
  }
  // Loaded only here: a run against the API (or a replayed cassette) never loads the emulator's code.
  const { serveEmulator } = await import('../emulator/serve-emulator.ts');
  const running = await serveEmulator({ emulator: { latency: { pendingMilliseconds: 200, runningMilliseconds: 300 } } });
  options.logger.info(`No API key set: using the built-in Gemini emulator at ${running.baseUrl} (set GEMINI_API_KEY to use the real API).`);
  const connection = { apiKey: 'chargen-emulator', baseUrl: running.baseUrl };
  return { kind: 'emulator', identity: 'emulator', ephemeral: true, connection, client: createGeminiClient(connection), settingsOverrides: emulatorGeminiSettings, close: () => running.close() };
}
