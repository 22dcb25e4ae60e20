import { parse as parseDotenv } from 'dotenv';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MissingApiKeyError } from '../lib/errors.ts';
import { hashCanonical } from '../lib/canonical-json.ts';
import type { Backend, BackendResolution } from '../lib/gemini/connected-backend.ts';
import { describeBackend, toStorableUrl } from '../lib/store/remember-backend.ts';
import { emulatorGeminiSettings } from '../schemas/gemini-settings.ts';
import { toVertexTarget, type VertexSettings, type VertexTarget } from '../schemas/vertex-settings.ts';
import { findApplicationDefaultCredentials } from './find-application-default-credentials.ts';
import { isLoopbackUrl } from './is-loopback-url.ts';

/** The one line to say when this shell can reach no Vertex AI: what to set. */
export const vertexCredentialsAdvice =
  'run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file); ' +
  'to use a running `chargen emulator` instead, set CHARGEN_BASE_URL to its address';

/**
 * Pure: `vertex-<12 hex>`, from what decides where jobs are: the project and location, and the endpoint when it is not
 * Google's; the same settings give the same identity in every shell. Not the bucket nor the prefix: moving the files
 * elsewhere must not forget the answers paid for (uploads and job records name their objects in full, and an upload
 * in another place is not reused).
 */
export function identifyVertexBackend(options: { target: VertexTarget; baseUrl?: string }): string {
  const { project, location } = options.target;
  const baseUrl = options.baseUrl?.replace(/\/+$/, '') ?? null;
  return `vertex-${hashCanonical({ project, location, baseUrl }).slice(0, 12)}`;
}

/** CHARGEN_BASE_URL from the environment, else from `.env` in `cwd` (read, never loaded), as the Gemini backend reads it. */
async function readBaseUrl(options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<string | undefined> {
  if (options.env['CHARGEN_BASE_URL']) return options.env['CHARGEN_BASE_URL'];
  const text = await readFile(join(options.cwd, '.env')).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return (text ? parseDotenv(text)['CHARGEN_BASE_URL'] : undefined) || undefined;
}

/**
 * `backend: "vertex"`, known without a network call: with CHARGEN_BASE_URL, that endpoint (a `chargen emulator`
 * serves Vertex AI and Cloud Storage on one port) and no credentials; else Google's, with Application Default
 * Credentials, which must be found in this shell. Unavailable (saying what to set) without a project and bucket,
 * or without both an endpoint and credentials. The built-in emulator is no Vertex backend.
 */
export async function resolveVertexBackend(options: { vertex?: VertexSettings; cwd: string; env: NodeJS.ProcessEnv }): Promise<BackendResolution & { baseUrl?: string }> {
  const target = options.vertex ? toVertexTarget(options.vertex) : undefined;
  const base = { builtIn: false, reason: 'as set: backend "vertex"' };
  if (!target) {
    return { ...base, identity: 'vertex', label: 'Vertex AI', unavailable: 'backend "vertex" needs vertex.project and vertex.bucket: set them in the "vertex" section of chargen.config.json.' };
  }
  const baseUrl = await readBaseUrl(options);
  const identity = identifyVertexBackend({ target, ...(baseUrl ? { baseUrl } : {}) });
  const label = describeBackend({ identity, backend: 'vertex', vertex: target, ...(baseUrl ? { baseUrl: toStorableUrl(baseUrl) } : {}) });
  if (baseUrl) return { ...base, identity, label, reason: `${base.reason}, CHARGEN_BASE_URL set`, vertex: target, baseUrl };
  const credentials = await findApplicationDefaultCredentials({ env: options.env });
  if (credentials) return { ...base, identity, label, reason: `${base.reason}, with ${credentials.description}`, vertex: target };
  return { ...base, identity, label, vertex: target, unavailable: `backend "vertex" found no Application Default Credentials in this shell: ${vertexCredentialsAdvice}.` };
}

/**
 * Connects a resolved Vertex backend: the GenAI client in Vertex AI mode and the Cloud Storage client, both at
 * CHARGEN_BASE_URL with a fixed token when it is set (the Storage client sends no credentials to a custom
 * `apiEndpoint`), else at Google's with Application Default Credentials (looked for by each client on its first call).
 */
export async function connectVertexBackend(resolution: BackendResolution & { baseUrl?: string }): Promise<Backend> {
  if (resolution.unavailable || !resolution.vertex) throw new MissingApiKeyError({ message: resolution.unavailable ?? vertexCredentialsAdvice });
  const target = resolution.vertex;
  const { baseUrl } = resolution;
  // Loaded only here: resolving a backend (`chargen status`) needs neither SDK, and loading them costs start-up time.
  const [{ GoogleGenAI }, { Storage }, { createRetryAfterFetch }, { createFixedTokenAuthClient }] = await Promise.all([
    import('@google/genai'),
    import('@google-cloud/storage'),
    import('../lib/gemini/retry-after-fetch.ts'),
    import('../lib/fixed-token-auth-client.ts'),
  ]);
  const client = new GoogleGenAI({
    vertexai: true,
    project: target.project,
    location: target.location,
    ...(baseUrl ? { googleAuthOptions: { authClient: createFixedTokenAuthClient() } } : {}),
    httpOptions: { ...(baseUrl ? { baseUrl } : {}), fetch: createRetryAfterFetch(globalThis.fetch) },
  });
  // chargen retries each call itself (callWithRetry, with its policy and isRetryable): the client's own retries off.
  const storage = new Storage({ projectId: target.project, ...(baseUrl ? { apiEndpoint: baseUrl } : {}), retryOptions: { autoRetry: false } });
  return {
    kind: 'vertex',
    identity: resolution.identity,
    ephemeral: false,
    connection: { apiKey: '', ...(baseUrl ? { baseUrl } : {}) },
    client,
    vertex: { target, storage },
    settingsOverrides: isLoopbackUrl(baseUrl) ? emulatorGeminiSettings : {},
    close: async () => undefined,
  };
}
