import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMemoryLogger } from '../../lib/logger.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import type { DoctorReport } from '../../pipeline/doctor/doctor-report.ts';
import { runDoctor } from '../../pipeline/doctor/run-doctor.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { chargenBinary, runNodeProcess, startEmulatorProcess } from '../support/chargen-process.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

const vertex = { project: 'chargen-test', location: 'us-central1', bucket: 'chargen-bucket' };
const configCheck = { name: 'config', status: 'ok' as const, detail: 'test config' };
const quickRetry = { sleep: async () => undefined, random: () => 0.5 };

let folder: string;
let emptyHome: string;
let emulator: TestEmulator;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'chargen-vertex-doctor-'));
  emptyHome = join(folder, 'home');
  await mkdir(emptyHome);
  emulator = await startTestEmulator({ buckets: ['chargen-bucket'] });
});
afterAll(async () => {
  await emulator.close();
  await rm(folder, { recursive: true, force: true });
});
afterEach(() => vi.unstubAllEnvs());

function createConfig(overrides: { vertex?: Record<string, string>; analyzeModel?: string } = {}): ChargenConfig {
  const config = resolveConfig({ env: {}, flags: {}, file: { path: join(folder, 'chargen.config.json'), value: { backend: 'vertex', vertex: { ...vertex, ...overrides.vertex } } } });
  return overrides.analyzeModel ? { ...config, analyze: { ...config.analyze, model: overrides.analyzeModel } } : config;
}

async function doctor(options: { config: ChargenConfig; env: NodeJS.ProcessEnv; probe?: boolean }): Promise<DoctorReport> {
  return runDoctor({ cwd: folder, env: options.env, logger: createMemoryLogger(), config: options.config, configCheck, probe: options.probe ?? false, environment: quickRetry });
}

const onEmulator = () => ({ HOME: emptyHome, CHARGEN_BASE_URL: emulator.baseUrl });
const statuses = (report: DoctorReport) => report.checks.map((check) => [check.name, check.status]);
const findCheck = (report: DoctorReport, name: string) => report.checks.find((check) => check.name === name);

describe('chargen doctor on backend "vertex"', () => {
  it('passes on the emulator: no credentials needed, the bucket written and emptied again, the models served, the job list', async () => {
    const report = await doctor({ config: createConfig(), env: onEmulator() });
    expect(statuses(report)).toEqual([
      ['config', 'ok'],
      ['credentials', 'ok'],
      ['bucket', 'ok'],
      ['analyze.model', 'ok'],
      ['compile.model', 'ok'],
      ['batches.list', 'ok'],
    ]);
    expect(report.exitCode).toBe(0);
    expect(report.backend).toBe(`Vertex AI (project chargen-test, location us-central1, gs://chargen-bucket/chargen) at ${emulator.baseUrl}`);
    expect(findCheck(report, 'credentials')?.detail).toBe(`none needed: CHARGEN_BASE_URL (${emulator.baseUrl}) takes a fixed token`);
    expect(findCheck(report, 'bucket')?.detail).toMatch(/^gs:\/\/chargen-bucket \(US-CENTRAL1\) exists; a probe object was written under gs:\/\/chargen-bucket\/chargen\/ \(ifGenerationMatch 0\) and deleted$/);
    expect(findCheck(report, 'compile.model')?.detail).toBe('gemini-3-pro-image is served by Vertex AI (publishers/google/models/gemini-3-pro-image)');
    const [left] = await new Storage({ apiEndpoint: emulator.baseUrl, projectId: 'chargen-test' }).bucket('chargen-bucket').getFiles();
    expect(left).toEqual([]);
  });

  it('fails the bucket item for a bucket that does not exist, with the command that makes it', async () => {
    const report = await doctor({ config: createConfig({ vertex: { bucket: 'no-such-bucket' } }), env: onEmulator() });
    const bucket = findCheck(report, 'bucket');
    expect(bucket?.status).toBe('failed');
    expect(bucket?.detail).toContain('gs://no-such-bucket does not exist (buckets.get: 404 The specified bucket does not exist.)');
    expect(bucket?.fix).toContain('gcloud storage buckets create gs://no-such-bucket --project=chargen-test --location=');
    expect(report.exitCode).toBe(2);
  });

  it('fails a model Vertex AI does not serve, naming the served models nearest its name', async () => {
    const report = await doctor({ config: createConfig({ analyzeModel: 'gemini-3-flash-previw' }), env: onEmulator() });
    const model = findCheck(report, 'analyze.model');
    expect(model?.status).toBe('failed');
    expect(model?.detail).toMatch(/^gemini-3-flash-previw is not served by Vertex AI; served models nearest its name: gemini-3-flash-preview/);
    expect(model?.fix).toBe('set analyze.model to gemini-3-flash-preview in chargen.config.json');
    expect(findCheck(report, 'compile.model')?.status).toBe('ok');
    expect(report.exitCode).toBe(2);
  });

  it('says --probe is not run on Vertex AI, and spends nothing', async () => {
    const report = await doctor({ config: createConfig(), env: onEmulator(), probe: true });
    expect(findCheck(report, 'probe')).toMatchObject({ status: 'warning', detail: expect.stringContaining('not run, nothing spent') });
    expect((await emulator.stats())['batchesCreated']).toBe(0);
  });

  it('without CHARGEN_BASE_URL or credentials: the credentials item fails with what to run, and nothing else is asked', async () => {
    const report = await doctor({ config: createConfig(), env: { HOME: emptyHome } });
    expect(statuses(report)).toEqual([['config', 'ok'], ['credentials', 'failed']]);
    expect(findCheck(report, 'credentials')?.fix).toContain('gcloud auth application-default login');
    expect(report.exitCode).toBe(2);
  });

  it('with credentials that give no token: the credentials item fails naming where they came from', async () => {
    const keyFile = join(folder, 'broken-key.json');
    await writeFile(keyFile, '{"type": "service_account"}');
    vi.stubEnv('GOOGLE_APPLICATION_CREDENTIALS', keyFile);
    const report = await doctor({ config: createConfig(), env: { HOME: emptyHome, GOOGLE_APPLICATION_CREDENTIALS: keyFile } });
    expect(statuses(report)).toEqual([['config', 'ok'], ['credentials', 'failed']]);
    expect(findCheck(report, 'credentials')?.detail).toMatch(/^no token from the key file GOOGLE_APPLICATION_CREDENTIALS names: /);
    expect(findCheck(report, 'credentials')?.fix).toContain('gcloud auth application-default login');
  });
});

describe('chargen doctor --backend vertex, as a user runs it against `chargen emulator`', () => {
  it('prints the Vertex AI target and every item ok', async () => {
    const running = await startEmulatorProcess({ pendingMilliseconds: 1_000, runningMilliseconds: 1_000 });
    try {
      await writeFile(join(folder, 'vertex.config.json'), JSON.stringify({ vertex }));
      const env = { ...process.env, HOME: emptyHome, GEMINI_API_KEY: '', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: running.baseUrl };
      const result = await runNodeProcess({ cwd: folder, args: [chargenBinary, 'doctor', '--backend', 'vertex', '--config', 'vertex.config.json'], env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`chargen doctor: Vertex AI (project chargen-test, location us-central1, gs://chargen-bucket/chargen) at ${running.baseUrl}`);
      expect(result.stdout).toMatch(/credentials\s+ok\s+none needed/);
      expect(result.stdout).toMatch(/bucket\s+ok\s+gs:\/\/chargen-bucket/);
      expect(result.stdout).toContain('Nothing failed');
    } finally {
      await running.stop();
    }
  });
});
