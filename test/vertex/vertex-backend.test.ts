import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, exitCodeFor, MissingApiKeyError } from '../../lib/errors.ts';
import { createMemoryLogger } from '../../lib/logger.ts';
import { readRememberedBackends, rememberBackend } from '../../lib/store/remember-backend.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { connectBackend, resolveBackend } from '../../pipeline/connect-backend.ts';
import { identifyVertexBackend } from '../../pipeline/connect-vertex-backend.ts';
import type { VertexSettings } from '../../schemas/vertex-settings.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

const vertex: VertexSettings = { project: 'chargen-test', location: 'us-central1', bucket: 'chargen-bucket', prefix: 'chargen' };
const target = { project: 'chargen-test', location: 'us-central1', bucket: 'chargen-bucket', prefix: 'chargen' };

let folder: string;
let emptyHome: string;
let emulator: TestEmulator;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'chargen-vertex-backend-'));
  emptyHome = join(folder, 'home');
  await mkdir(emptyHome);
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await emulator.close();
  await rm(folder, { recursive: true, force: true });
});
afterEach(() => vi.unstubAllEnvs());

/** A shell with no credentials of any kind: no key, no key file, no gcloud login, no endpoint. */
const bareShell = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ HOME: emptyHome, ...extra });

describe('backend "vertex" in the config', () => {
  it('names vertex.project and vertex.bucket, each with how to set it, with every other problem at once', () => {
    let error: unknown;
    try {
      resolveConfig({ env: {}, flags: { backend: 'vertex', mode: 'fast' } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^--mode: /);
    expect(problems[1]).toMatch(/^vertex\.project: backend "vertex" needs the Google Cloud project ID: set "vertex": \{"project": "<project id>"\} in chargen\.config\.json$/);
    expect(problems[2]).toMatch(/^vertex\.bucket: backend "vertex" needs a Cloud Storage bucket .*gcloud storage buckets create gs:\/\/<bucket name>/);
    expect(exitCodeFor(error as ConfigError)).toBe(2);
  });

  it('names the file and the field when only the bucket is missing, and refuses a gs:// bucket', () => {
    const file = { path: join(folder, 'chargen.config.json'), value: { backend: 'vertex', vertex: { project: 'p' } } };
    expect(() => resolveConfig({ file, env: {}, flags: {} })).toThrow(/chargen\.config\.json: vertex\.bucket: backend "vertex" needs a Cloud Storage bucket/);
    const prefixed = { ...file, value: { backend: 'vertex', vertex: { project: 'p', bucket: 'gs://b' } } };
    expect(() => resolveConfig({ file: prefixed, env: {}, flags: {} })).toThrow(/vertex\.bucket: the bucket's name alone, without gs:\/\//);
    for (const bucket of ['My_Bucket', 'b/folder', 'bucket ', 'ab']) {
      const misnamed = { ...file, value: { backend: 'vertex', vertex: { project: 'p', bucket } } };
      expect(() => resolveConfig({ file: misnamed, env: {}, flags: {} }), bucket).toThrow(/vertex\.bucket: a Cloud Storage bucket name: 3 to 222 lowercase letters/);
    }
  });

  it('defaults location to global and prefix to chargen, and takes CHARGEN_BACKEND=vertex', () => {
    const file = { path: join(folder, 'chargen.config.json'), value: { vertex: { project: 'p', bucket: 'b-1' } } };
    const config = resolveConfig({ file, env: { CHARGEN_BACKEND: 'vertex' }, flags: {} });
    expect(config.backend).toBe('vertex');
    expect(config.vertex).toEqual({ project: 'p', location: 'global', bucket: 'b-1', prefix: 'chargen' });
    // Another backend needs no vertex section.
    expect(resolveConfig({ env: {}, flags: { backend: 'gemini' } }).vertex).toEqual({ location: 'global', prefix: 'chargen' });
  });
});

describe('the Vertex backend identity', () => {
  it('is the same for the same settings, differs by project, location and endpoint, and not by bucket or prefix', () => {
    const identity = identifyVertexBackend({ target });
    expect(identity).toMatch(/^vertex-[0-9a-f]{12}$/);
    expect(identifyVertexBackend({ target: { ...target } })).toBe(identity);
    // Moving the files to another bucket or folder keeps the answers already paid for.
    expect(identifyVertexBackend({ target: { ...target, bucket: 'other-bucket' } })).toBe(identity);
    expect(identifyVertexBackend({ target: { ...target, prefix: 'other/prefix' } })).toBe(identity);
    const others = [
      identifyVertexBackend({ target: { ...target, project: 'other-project' } }),
      identifyVertexBackend({ target: { ...target, location: 'global' } }),
      identifyVertexBackend({ target, baseUrl: 'http://127.0.0.1:8080' }),
    ];
    expect(new Set([identity, ...others]).size).toBe(4);
    // A trailing slash is the same endpoint.
    expect(identifyVertexBackend({ target, baseUrl: 'http://127.0.0.1:8080/' })).toBe(others[2]);
  });
});

describe('--backend vertex, resolved and connected', () => {
  it('with CHARGEN_BASE_URL: that endpoint, no credentials needed, the emulator\'s short polls, the target named', async () => {
    const env = bareShell({ CHARGEN_BASE_URL: emulator.baseUrl });
    const resolution = await resolveBackend({ choice: 'vertex', vertex, cwd: folder, env });
    expect(resolution).toMatchObject({ identity: identifyVertexBackend({ target, baseUrl: emulator.baseUrl }), builtIn: false, vertex: target });
    expect(resolution.unavailable).toBeUndefined();
    expect(resolution.connection).toBeUndefined();
    expect(resolution.label).toBe(`Vertex AI (project chargen-test, location us-central1, gs://chargen-bucket/chargen) at ${emulator.baseUrl}`);
    const backend = await connectBackend({ choice: 'vertex', vertex, cwd: folder, env, logger: createMemoryLogger() });
    expect(backend).toMatchObject({ kind: 'vertex', identity: resolution.identity, ephemeral: false, vertex: { target } });
    expect(backend.settingsOverrides).not.toEqual({});
    await backend.close();
  });

  it('reads CHARGEN_BASE_URL from .env as the Gemini backend does', async () => {
    const project = await mkdtemp(join(folder, 'dotenv-'));
    await writeFile(join(project, '.env'), `CHARGEN_BASE_URL=${emulator.baseUrl}\n`);
    const resolution = await resolveBackend({ choice: 'vertex', vertex, cwd: project, env: bareShell() });
    expect(resolution.identity).toBe(identifyVertexBackend({ target, baseUrl: emulator.baseUrl }));
  });

  it('with CHARGEN_BASE_URL, looks for no credentials: both clients work with a key file that does not exist', async () => {
    // Were either client to look for Application Default Credentials, the missing key file would fail the call.
    vi.stubEnv('GOOGLE_APPLICATION_CREDENTIALS', join(folder, 'no-such-key.json'));
    vi.stubEnv('HOME', emptyHome);
    const control = new Storage({ projectId: 'chargen-test' });
    await expect(control.authClient.getClient()).rejects.toThrow(/no-such-key\.json/);
    const env = bareShell({ CHARGEN_BASE_URL: emulator.baseUrl });
    const backend = await connectBackend({ choice: 'vertex', vertex, cwd: folder, env, logger: createMemoryLogger() });
    const file = backend.vertex?.storage.bucket('chargen-bucket').file('chargen/probe.txt');
    await file?.save('no credentials', { resumable: false });
    expect((await file?.download())?.[0].toString()).toBe('no credentials');
    await file?.delete();
    const jobs = await backend.client.batches.list({ config: { pageSize: 1 } });
    expect(jobs.page).toEqual([]);
    await backend.close();
  });

  it('without CHARGEN_BASE_URL or credentials: one line saying what to set, exit 2, before anything is sent', async () => {
    const resolution = await resolveBackend({ choice: 'vertex', vertex, cwd: folder, env: bareShell() });
    expect(resolution.identity).toBe(identifyVertexBackend({ target }));
    expect(resolution.label).toBe('Vertex AI (project chargen-test, location us-central1, gs://chargen-bucket/chargen)');
    const connecting = connectBackend({ choice: 'vertex', vertex, cwd: folder, env: bareShell(), logger: createMemoryLogger() });
    const error = await connecting.then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(MissingApiKeyError);
    const message = (error as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain('gcloud auth application-default login');
    expect(message).toContain('GOOGLE_APPLICATION_CREDENTIALS');
    expect(message).toContain('CHARGEN_BASE_URL');
    expect(exitCodeFor(error as Error)).toBe(2);
  });

  it('without CHARGEN_BASE_URL, with a gcloud login or a key file: Google\'s endpoint, through Application Default Credentials', async () => {
    const gcloud = join(folder, 'gcloud');
    await mkdir(gcloud, { recursive: true });
    await writeFile(join(gcloud, 'application_default_credentials.json'), '{}');
    const fromLogin = await resolveBackend({ choice: 'vertex', vertex, cwd: folder, env: bareShell({ CLOUDSDK_CONFIG: gcloud }) });
    expect(fromLogin).toMatchObject({ identity: identifyVertexBackend({ target }), reason: 'as set: backend "vertex", with gcloud application-default credentials' });
    expect(fromLogin.unavailable).toBeUndefined();
    const fromKeyFile = await resolveBackend({ choice: 'vertex', vertex, cwd: folder, env: bareShell({ GOOGLE_APPLICATION_CREDENTIALS: '/keys/sa.json' }) });
    expect(fromKeyFile.unavailable).toBeUndefined();
    const backend = await connectBackend({ choice: 'vertex', vertex, cwd: folder, env: bareShell({ GOOGLE_APPLICATION_CREDENTIALS: '/keys/sa.json' }), logger: createMemoryLogger() });
    expect(backend.settingsOverrides).toEqual({});
    expect(backend.connection.baseUrl).toBeUndefined();
  });

  it('is remembered with its project, location and bucket, and named so by a shell on `auto`', async () => {
    const workspaceDirectory = await mkdtemp(join(folder, 'workspace-'));
    const identity = identifyVertexBackend({ target, baseUrl: emulator.baseUrl });
    await rememberBackend({ workspaceDirectory, identity, baseUrl: emulator.baseUrl, vertex: target, now: () => Date.UTC(2026, 11, 2) });
    expect(await readRememberedBackends(workspaceDirectory)).toEqual([{ identity, backend: 'vertex', baseUrl: emulator.baseUrl, vertex: target, lastUsedAt: '2026-12-02T00:00:00.000Z' }]);
    const resolution = await resolveBackend({ choice: 'auto', cwd: folder, env: bareShell(), workspaceDirectory });
    expect(resolution.identity).toBe(identity);
    expect(resolution.label).toBe(`Vertex AI (project chargen-test, location us-central1, gs://chargen-bucket/chargen) at ${emulator.baseUrl}`);
    expect(resolution.unavailable).toMatch(/pass --backend vertex/);
  });
});
