import { createHash } from 'node:crypto';
import { MissingApiKeyError } from '../lib/errors.ts';
import { resolveGeminiConnection, type GeminiConnection } from '../lib/gemini/resolve-gemini-connection.ts';
import { emulatorGeminiSettings } from '../schemas/gemini-settings.ts';
import type { Backend, BackendChoice, BackendResolution } from '../lib/gemini/connected-backend.ts';
import type { Logger } from '../lib/logger.ts';
import { describeBackend, readRememberedBackends, toStorableUrl } from '../lib/store/remember-backend.ts';
import type { VertexSettings } from '../schemas/vertex-settings.ts';
import { connectVertexBackend, resolveVertexBackend } from './connect-vertex-backend.ts';
import { isLoopbackUrl } from './is-loopback-url.ts';

export type { Backend, BackendChoice, BackendResolution } from '../lib/gemini/connected-backend.ts';

function identify(connection: GeminiConnection): string {
  if (connection.baseUrl === undefined) return 'gemini';
  return `endpoint-${createHash('sha256').update(connection.baseUrl.replace(/\/+$/, '')).digest('hex').slice(0, 12)}`;
}

export { isLoopbackUrl };

/** Which backend, from where: the choice (config, `CHARGEN_BACKEND` or `--backend`) and, for Vertex AI, its section. */
export interface BackendOptions {
  choice: BackendChoice;
  cwd: string;
  env: NodeJS.ProcessEnv;
  workspaceDirectory?: string;
  /** The config's `vertex` section: where a `vertex` backend runs (ignored by the others). */
  vertex?: VertexSettings;
}

const builtInBackend = (reason: string): BackendResolution => ({ identity: 'emulator', label: 'the built-in emulator', reason, builtIn: true });

function toReachable(connection: GeminiConnection, reason: string): BackendResolution {
  const label = connection.baseUrl ? toStorableUrl(connection.baseUrl) : 'the Gemini API';
  return { identity: identify(connection), label, reason, builtIn: false, connection };
}

const keyAdvice = 'set GEMINI_API_KEY (or GOOGLE_API_KEY) in the environment or in .env (get one at https://aistudio.google.com/apikey)';

/**
 * `auto`: with a key, the API (or CHARGEN_BASE_URL); without one, the backend the workspace's last run used (which this
 * shell then cannot reach, and says what to set), else the built-in emulator. `gemini`, `emulator` and `vertex` are
 * what they say. The workspace is remembered only once a run used it (see rememberBackend).
 */
export async function resolveBackend(options: BackendOptions): Promise<BackendResolution> {
  if (options.choice === 'emulator') return builtInBackend('as set: backend "emulator"');
  if (options.choice === 'vertex') {
    const { baseUrl: _baseUrl, ...resolution } = await resolveVertexBackend(options);
    return resolution;
  }
  const found = await resolveGeminiConnection({ cwd: options.cwd, env: options.env });
  if (found) return toReachable(found, options.choice === 'gemini' ? 'as set: backend "gemini"' : found.baseUrl ? 'CHARGEN_BASE_URL and an API key are set' : 'an API key is set');
  if (options.choice === 'gemini') {
    return { identity: 'gemini', label: 'the Gemini API', reason: 'as set: backend "gemini"', builtIn: false, unavailable: `backend "gemini" needs an API key: ${keyAdvice}.` };
  }
  const [last] = options.workspaceDirectory ? await readRememberedBackends(options.workspaceDirectory) : [];
  if (!last?.lastUsedAt || last.backend === 'emulator') return builtInBackend('no API key set; set GEMINI_API_KEY to use the real API');
  const label = describeBackend(last);
  if (last.backend === 'vertex') {
    return {
      identity: last.identity,
      label,
      reason: `this workspace's backend, last used ${last.lastUsedAt}`,
      builtIn: false,
      unavailable: `This workspace runs on ${label}: pass --backend vertex (or set "backend": "vertex" in chargen.config.json), with its "vertex" section. Or pass --backend emulator to use the built-in emulator instead (its answers and jobs are kept apart).`,
    };
  }
  const reach = last.backend === 'endpoint' ? `set CHARGEN_BASE_URL=${last.baseUrl ?? '…'} and an API key (any key, for a \`chargen emulator\`)` : keyAdvice;
  return {
    identity: last.identity,
    label,
    reason: `this workspace's backend, last used ${last.lastUsedAt}; no API key in this shell`,
    builtIn: false,
    unavailable: `This workspace runs on ${label}, and this shell has no API key to reach it: ${reach}. Or pass --backend emulator to use the built-in emulator instead (its answers and jobs are kept apart).`,
  };
}

/** The backend's identity, known without connecting (fingerprints need it before anything starts). */
export async function resolveBackendIdentity(options: BackendOptions): Promise<string> {
  return (await resolveBackend(options)).identity;
}

/**
 * Connects the backend `resolveBackend` picks; throws when this shell cannot reach it. The built-in emulator is
 * started here, and said in one line with why it is used (unless the caller already named the backend).
 */
export async function connectBackend(options: BackendOptions & { logger: Logger; announce?: boolean }): Promise<Backend> {
  if (options.choice === 'vertex') return connectVertexBackend(await resolveVertexBackend(options));
  const resolution = await resolveBackend(options);
  if (resolution.unavailable) throw new MissingApiKeyError({ message: resolution.unavailable });
  // Loaded only here: resolving a backend (`chargen status`) needs no SDK, and loading it costs start-up time.
  const { createGeminiClient } = await import('../lib/gemini/create-gemini-client.ts');
  if (!resolution.builtIn && resolution.connection) {
    const { connection } = resolution;
    return {
      kind: 'gemini',
      identity: resolution.identity,
      ephemeral: false,
      connection,
      client: createGeminiClient(connection),
      settingsOverrides: isLoopbackUrl(connection.baseUrl) ? emulatorGeminiSettings : {},
      close: async () => undefined,
    };
  }
  // Loaded only here: a run against the API (or a replayed cassette) never loads the emulator's code.
  const { serveEmulator } = await import('../emulator/serve-emulator.ts');
  const running = await serveEmulator({ emulator: { latency: { pendingMilliseconds: 200, runningMilliseconds: 300 } } });
  if (options.announce !== false) options.logger.info(`Using the built-in Gemini emulator at ${running.baseUrl} (${resolution.reason}).`);
  const connection = { apiKey: 'chargen-emulator', baseUrl: running.baseUrl };
  return { kind: 'emulator', identity: 'emulator', ephemeral: true, connection, client: createGeminiClient(connection), settingsOverrides: emulatorGeminiSettings, close: () => running.close() };
}
