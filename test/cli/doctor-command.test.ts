import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { doctorReportSchema, formatDoctorTable, type DoctorReport } from '../../pipeline/doctor/doctor-report.ts';
import { probeModel } from '../../pipeline/doctor/probe-batch-parser.ts';
import { findServedModel } from '../../schemas/gemini-models.ts';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess, type ProcessResult } from '../support/chargen-process.ts';
import { createEmulatorAdmin, type EmulatorAdmin } from '../support/emulator-admin.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

const apiKey = 'doctor-test-key-3c9e1f';
const readmePath = join(import.meta.dirname, '..', '..', 'README.md');
/** Where each command is described in full, its --json example included. */
const commandsPath = join(import.meta.dirname, '..', '..', 'docs', 'commands.md');
const itemNames = ['config', 'key', 'analyze.model', 'compile.model', 'upload', 'batches.list'];

describe('chargen doctor', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let admin: EmulatorAdmin;

  /** `chargen doctor` as a user runs it, off a terminal; whatever it prints never holds the key. */
  const doctor = async (options: { args: string[]; baseUrl: string; key?: string; config?: unknown }): Promise<ProcessResult & { report?: DoctorReport }> => {
    const configArgs: string[] = [];
    if (options.config !== undefined) {
      await writeFile(join(project, 'doctor.config.json'), JSON.stringify(options.config));
      configArgs.push('--config', 'doctor.config.json');
    }
    const key = options.key ?? apiKey;
    const env = { ...process.env, GEMINI_API_KEY: key, GOOGLE_API_KEY: '', CHARGEN_BASE_URL: options.baseUrl };
    const result = await runNodeProcess({ cwd: project, args: [chargenBinary, 'doctor', ...configArgs, ...options.args], env });
    expect(result.stdout + result.stderr).not.toContain(key);
    return { ...result, ...(options.args.includes('--json') ? { report: doctorReportSchema.parse(JSON.parse(result.stdout)) } : {}) };
  };
  const findCheck = (report: DoctorReport | undefined, name: string) => report?.checks.find((check) => check.name === name);
  const listFiles = async (baseUrl: string) =>
    ((await (await fetch(`${baseUrl}/v1beta/files?pageSize=100`, { headers: { 'x-goog-api-key': apiKey } })).json()) as { files?: unknown[] }).files ?? [];

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-doctor-'));
    // Jobs stay PENDING for a minute: the probe's cancel always finds its job unfinished.
    // A cancel that lands at once (as one client saw it, tobert/kaibo PR #8), so the probe's job reads CANCELLED when looked at.
    emulator = await startEmulatorProcess({ pendingMilliseconds: 60_000, runningMilliseconds: 1_000, cancelMilliseconds: 0 });
    admin = createEmulatorAdmin(emulator.baseUrl);
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });
  beforeEach(async () => admin.reset());

  it('passes on a running chargen emulator through CHARGEN_BASE_URL: every item ok, nothing left on the Files API', async () => {
    const json = await doctor({ args: ['--json'], baseUrl: emulator.baseUrl });
    expect(json.code, json.stderr).toBe(0);
    expect(json.report).toMatchObject({ exitCode: 0, backend: emulator.baseUrl });
    expect(json.report?.checks.map((check) => [check.name, check.status])).toEqual(itemNames.map((name) => [name, 'ok']));
    expect(findCheck(json.report, 'compile.model')?.detail).toBe('gemini-3-pro-image is served and takes batchGenerateContent');
    expect(await listFiles(emulator.baseUrl)).toEqual([]);
    expect((await admin.readStats()).batchesCreated).toBe(0);

    const table = await doctor({ args: [], baseUrl: emulator.baseUrl });
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[1]).toMatch(/^item\s+result\s+detail\s+how to mend$/);
    for (const name of itemNames) expect(lines.some((line) => new RegExp(`^${name.replace('.', '\\.')}\\s+ok\\s`).test(line)), name).toBe(true);
    expect(table.stdout).toContain('Nothing failed: chargen run can go ahead.');
  });

  it('checks each model for generateContent in --mode sync', async () => {
    const result = await doctor({ args: ['--json', '--mode', 'sync'], baseUrl: emulator.baseUrl });
    expect(result.code, result.stderr).toBe(0);
    expect(findCheck(result.report, 'analyze.model')?.detail).toBe('gemini-3-flash-preview is served and takes generateContent');
  });

  it('--probe creates exactly one batch job, cancels it at once and leaves no file', async () => {
    const result = await doctor({ args: ['--probe', '--yes', '--json'], baseUrl: emulator.baseUrl });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('well under $0.001');
    expect(findCheck(result.report, 'probe')).toMatchObject({ status: 'ok', detail: expect.stringContaining('batches.create accepted a request line') });
    const stats = (await admin.readStats()) as unknown as Record<string, number>;
    expect([stats['batchesCreated'], stats['batchesCancelled']]).toEqual([1, 1]);
    expect(await listFiles(emulator.baseUrl)).toEqual([]);
    const jobs = await admin.listBatchJobs(apiKey);
    expect(jobs.map((job) => job.state)).toEqual(['BATCH_STATE_CANCELLED']);
    expect(jobs[0]?.displayName).toMatch(/^chargen-doctor-probe-[0-9a-f]{8}$/);
    // The probe asks the cheapest served text model, which the catalog must still list.
    expect(findServedModel(probeModel)?.methods).toContain('batchGenerateContent');
  });

  it("names the probe's job as the workspace names its jobs, so that chargen jobs can list and cancel it", async () => {
    const workspace = join(project, '.chargen');
    await mkdir(workspace, { recursive: true });
    await writeFile(join(workspace, 'workspace.json'), JSON.stringify({ kind: 'chargen-workspace', version: 1, id: 'd0c70r0001', createdAt: '2026-11-21T12:00:00.000Z' }));
    try {
      const result = await doctor({ args: ['--probe', '--yes', '--json'], baseUrl: emulator.baseUrl });
      expect(result.code, result.stderr).toBe(0);
      const listed = await runNodeProcess({ cwd: project, args: [chargenBinary, 'jobs', 'list', '--json'], env: { ...process.env, GEMINI_API_KEY: apiKey, GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl } });
      const jobs = (JSON.parse(listed.stdout) as { jobs: { displayName: string; state: string }[] }).jobs;
      expect(jobs).toEqual([expect.objectContaining({ displayName: expect.stringMatching(/^chargen-d0c70r0001-doctor-probe-[0-9a-f]{8}$/), state: 'JOB_STATE_CANCELLED' })]);
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });

  it('--probe without --yes off a terminal says its cost, exits 2 and spends nothing', async () => {
    const result = await doctor({ args: ['--probe', '--json'], baseUrl: emulator.baseUrl });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('well under $0.001');
    expect(result.report?.checks).toEqual([expect.objectContaining({ name: 'probe', status: 'failed', fix: expect.stringContaining('--yes') })]);
    const stats = await admin.readStats();
    expect([stats.uploads, stats.batchesCreated]).toEqual([0, 0]);
  });

  it("runs the README's doctor commands as it says they behave", async () => {
    const readme = await readFile(readmePath, 'utf8');
    const commands = [...readme.matchAll(/^npx chargen doctor([^#\n]*?)\s+#/gm)].map((match) => (match[1] ?? '').trim().split(/\s+/).filter(Boolean));
    expect(commands).toEqual([[], ['--probe']]);
    const plain = await doctor({ args: commands[0] ?? [], baseUrl: emulator.baseUrl });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^upload\s+ok\s/m);
    // Off a terminal the probe asks for --yes (as the README says), and with it goes ahead.
    const unasked = await doctor({ args: commands[1] ?? [], baseUrl: emulator.baseUrl });
    expect(unasked.code).toBe(2);
    expect(unasked.stdout).toMatch(/^probe\s+FAIL\s/m);
    const probed = await doctor({ args: [...(commands[1] ?? []), '--yes'], baseUrl: emulator.baseUrl });
    expect(probed.code, probed.stderr).toBe(0);
    expect(probed.stdout).toMatch(/^probe\s+ok\s/m);
  });

  it('fails the key item on a refused key, naming how to get and set one', async () => {
    const guarded: TestEmulator = await startTestEmulator({ apiKey: 'the-only-accepted-key' });
    try {
      const result = await doctor({ args: ['--json'], baseUrl: guarded.baseUrl, key: 'a-wrong-key-77b1' });
      expect(result.code).toBe(2);
      expect(findCheck(result.report, 'key')).toMatchObject({ status: 'failed', detail: expect.stringContaining('API key not valid') });
      expect(findCheck(result.report, 'key')?.fix).toMatch(/GEMINI_API_KEY .*\.env.*https:\/\/aistudio\.google\.com\/apikey/);
      // The --json example of docs/commands.md is this report's shape.
      const commandsPage = await readFile(commandsPath, 'utf8');
      const example = doctorReportSchema.parse(JSON.parse(/```json\n(\{"exitCode".*\})\n```/.exec(commandsPage)?.[1] ?? 'null'));
      const exampleKey = example.checks.find((check) => check.name === 'key');
      expect(result.report?.exitCode).toBe(example.exitCode);
      expect(findCheck(result.report, 'key')).toMatchObject({ status: exampleKey?.status, detail: expect.stringMatching(/^refused by /) });
      expect(findCheck(result.report, 'key')?.fix).toContain((exampleKey?.fix ?? '-').replace(' …', ''));
      expect(await guarded.stats()).toMatchObject({ uploads: 0 });

      const table = await doctor({ args: [], baseUrl: guarded.baseUrl, key: 'a-wrong-key-77b1' });
      expect(table.code).toBe(2);
      expect(table.stdout).toMatch(/^key\s+FAIL\s/m);
      expect(table.stdout).toContain('Failed: key');
    } finally {
      await guarded.close();
    }
  });

  it('names the replacement of a retired model in the config, and still checks every other item', async () => {
    const result = await doctor({ args: ['--json'], baseUrl: emulator.baseUrl, config: { compile: { model: 'gemini-3-pro-image-preview' } } });
    expect(result.code).toBe(2);
    expect(findCheck(result.report, 'compile.model')).toEqual({
      name: 'compile.model',
      status: 'failed',
      detail: expect.stringContaining('gemini-3-pro-image-preview is not served by the API: gemini-3-pro-image-preview was shut down on 2026-06-25; use gemini-3-pro-image'),
      fix: 'set compile.model to gemini-3-pro-image in chargen.config.json',
    });
    expect(result.report?.checks.filter((check) => check.name !== 'compile.model').map((check) => check.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('offers the served models nearest the name of a model neither the catalog nor the API knows', async () => {
    const result = await doctor({ args: ['--json'], baseUrl: emulator.baseUrl, config: { analyze: { model: 'gemini-3-flash-previe' } } });
    expect(result.code).toBe(2);
    expect(findCheck(result.report, 'analyze.model')).toMatchObject({
      status: 'failed',
      detail: expect.stringContaining('gemini-3-flash-previe is not served by the API; served models nearest its name: gemini-3-flash-preview'),
      fix: 'set analyze.model to gemini-3-flash-preview in chargen.config.json',
    });
  });

  it('reports a model the API answers with another (routed) as a warning, not a failure', async () => {
    const result = await doctor({ args: ['--json'], baseUrl: emulator.baseUrl, config: { analyze: { model: 'gemini-3.5-flash' } } });
    expect(result.code, result.stderr).toBe(0);
    expect(findCheck(result.report, 'analyze.model')).toMatchObject({ status: 'warning', detail: expect.stringContaining('answered by gemini-3.6-flash'), fix: 'set analyze.model to gemini-3.6-flash in chargen.config.json' });
  });

  it('fails the upload item when the Files API refuses every MIME type chargen would try', async () => {
    // The emulator refuses jsonl and application/jsonl at finalize, as the real API has: the fallbacks are refused too.
    const result = await doctor({ args: ['--json'], baseUrl: emulator.baseUrl, config: { gemini: { jsonlMimeType: 'jsonl' } } });
    expect(result.code).toBe(2);
    expect(findCheck(result.report, 'upload')).toMatchObject({ status: 'failed', detail: expect.stringContaining('refused every MIME type tried for it: jsonl'), fix: expect.stringContaining('gemini.jsonlMimeType') });
    expect(await listFiles(emulator.baseUrl)).toEqual([]);
  });

  it('warns when the configured MIME type is refused and a fallback is taken, as a run would fall back', async () => {
    const picky: TestEmulator = await startTestEmulator({ quirks: { refusedUploadMimeTypes: ['jsonl'] } });
    try {
      const result = await doctor({ args: ['--json'], baseUrl: picky.baseUrl, config: { gemini: { jsonlMimeType: 'jsonl' } } });
      expect(result.code, result.stderr).toBe(0);
      expect(findCheck(result.report, 'upload')).toMatchObject({ status: 'warning', detail: expect.stringContaining('uploaded as application/jsonl'), fix: 'set gemini.jsonlMimeType to application/jsonl in chargen.config.json' });
    } finally {
      await picky.close();
    }
  });

  it('fails the upload item when the Files API refuses the request file', async () => {
    const small: TestEmulator = await startTestEmulator({ limits: { maxFileBytes: 1 } });
    try {
      const result = await doctor({ args: ['--json'], baseUrl: small.baseUrl });
      expect(result.code).toBe(2);
      expect(findCheck(result.report, 'upload')).toMatchObject({ status: 'failed', detail: expect.stringMatching(/^a one-line request JSONL was refused: files\.upload: 400 File size \d+ bytes exceeds the maximum of 1 bytes\.$/) });
      expect(findCheck(result.report, 'batches.list')?.status).toBe('ok');
    } finally {
      await small.close();
    }
  });
});

describe('formatDoctorTable', () => {
  it('wraps detail and mend into their columns, a long word in the last column kept whole', () => {
    const lines = formatDoctorTable({
      width: 60,
      checks: [{ name: 'key', status: 'failed', detail: 'refused by the Gemini API: error 400 INVALID_ARGUMENT: API key not valid', fix: 'get one at https://aistudio.google.com/apikey' }],
    });
    expect(lines[0]).toMatch(/^item\s+result\s+detail\s+how to mend$/);
    expect(lines[1]).toMatch(/^key\s+FAIL\s+refused by the/);
    expect(lines.some((line) => line.endsWith('https://aistudio.google.com/apikey'))).toBe(true);
    const detailColumn = lines[1]?.indexOf('refused') ?? -1;
    for (const line of lines.slice(2)) expect(line.slice(0, detailColumn).trim()).toBe('');
  });
});
