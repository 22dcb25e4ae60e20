// What a new user meets before anything is spent: the input folder, the config's own files, prices, a damaged
// checkpoint. Each case runs `chargen run` as a child process, as a user runs it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editCheckpointItem } from '../support/edit-checkpoint-item.ts';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';

const root = join(import.meta.dirname, '..', '..');

/** Why only a call stack looks like: `    at name (file:line:column)`. */
const stackTracePattern = /^\s+at .+:\d+:\d+\)?$/m;

/** The lines a run wrote to stderr, leaving out the one that says which backend answers. */
function problemLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() !== '' && !line.includes('built-in Gemini emulator'));
}

describe('chargen run: the input folder is checked before the workspace is opened', () => {
  let project = '';
  const env = { ...process.env, GEMINI_API_KEY: '', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: '' };
  const run = (...args: string[]) => runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--backend', 'emulator', '--yes', ...args], env });

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-inputs-'));
    await writeFile(join(project, 'a-file'), 'not a folder');
    await mkdir(join(project, 'empty'));
    await symlink('loop', join(project, 'loop'));
  });
  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
  });

  it.each([
    ['a missing folder', 'nowhere', /nowhere.*no such folder/],
    ['a file', 'a-file', /a-file.*a file, not a folder/],
    ['a link that loops', 'loop', /loop.*cannot be read/],
    ['an empty folder', 'empty', /empty.*is empty.*PNG, JPEG/],
  ])('%s as --input: exit 2, one line naming it, no stack trace, no workspace (also with --dry-run)', async (_case, input, pattern) => {
    for (const extra of [[], ['--dry-run']]) {
      const result = await run('--input', input, ...extra);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).not.toMatch(stackTracePattern);
      const lines = problemLines(result.stderr);
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
      expect((await readdir(project)).sort()).toEqual(['a-file', 'empty', 'loop']);
    }
  });

  it('an unreadable folder as --input: exit 2 naming it', async () => {
    const locked = join(project, 'locked');
    await mkdir(locked, { mode: 0o000 });
    // root reads any folder: run chargen as nobody then, as a user without the right would be.
    const asNobody = process.getuid?.() === 0;
    if (asNobody) await chmod(project, 0o755);
    try {
      const child = spawn(process.execPath, [chargenBinary, 'run', '--backend', 'emulator', '--input', 'locked'], { cwd: project, env, ...(asNobody ? { uid: 65534, gid: 65534 } : {}) });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, stderr).toBe(2);
      expect(problemLines(stderr)).toEqual([expect.stringMatching(/locked.*cannot be read \(EACCES\)/)]);
    } finally {
      await rm(locked, { recursive: true, force: true });
    }
  });

  it('a good folder still runs', async () => {
    await cp(join(root, 'input_images', 'bard.png'), join(project, 'good', 'bard.png'));
    const result = await run('--input', 'good', '--dry-run');
    expect(result.code, result.stderr).toBe(0);
    await rm(join(project, 'good'), { recursive: true });
  });
});

// Each case runs the CLI two to four times in a row: at load 15 on 2 cores that passes the 30 s default with nothing
// wrong. No step waits on a timer, so only a hang meets this limit.
describe('chargen run: the config and its files, against a running emulator', { timeout: 120_000 }, () => {
  let project = '';
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;
  const run = (...args: string[]) => runNodeProcess({ cwd: project, args: [chargenBinary, 'run', ...args], env });
  const stats = async () => (await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { uploads: number; batchesCreated: number; requestsByModel: Record<string, number> };
  const writeConfig = async (path: string, value: unknown) => {
    await mkdir(join(project, path, '..'), { recursive: true });
    await writeFile(join(project, path), JSON.stringify(value));
  };

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-config-files-'));
    await mkdir(join(project, 'input_images'));
    for (const name of ['bard.png', 'druid.png']) await cp(join(root, 'input_images', name), join(project, 'input_images', name));
    emulator = await startEmulatorProcess({ pendingMilliseconds: 50, runningMilliseconds: 50 });
    env = { ...process.env, GEMINI_API_KEY: 'test-key-for-the-emulator-2c4e', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl };
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('a templateDirectory that is not there, or lacks character.hbs, is exit 2 before anything is uploaded or sent, in a dry run too', async () => {
    await mkdir(join(project, 'half-templates', 'partials'), { recursive: true });
    await writeConfig('missing.config.json', { compile: { templateDirectory: 'my-templates' } });
    await writeConfig('half.config.json', { compile: { templateDirectory: 'half-templates' } });
    const before = await stats();
    for (const [config, pattern] of [['missing.config.json', /compile\.templateDirectory.*my-templates.*no such folder/], ['half.config.json', /compile\.templateDirectory.*half-templates.*character\.hbs/]] as const) {
      for (const extra of [['--yes'], ['--dry-run']]) {
        const result = await run('--config', config, '--workdir', '.chargen-missing', ...extra);
        expect(result.code, result.stderr).toBe(2);
        expect(result.stderr).toMatch(pattern);
        expect(result.stderr).not.toMatch(stackTracePattern);
      }
    }
    const after = await stats();
    expect([after.uploads, after.batchesCreated, after.requestsByModel]).toEqual([before.uploads, before.batchesCreated, before.requestsByModel]);
  });

  it('a template with a syntax error is exit 2 before anything is sent, shown whole: path, line, column, message', async () => {
    await cp(join(root, 'templates'), join(project, 'broken-templates'), { recursive: true });
    await writeFile(join(project, 'broken-templates', 'partials', 'broken.hbs'), 'Eyes:\n{{#if eye_colour}}{{eye_colour}}');
    await writeConfig('broken.config.json', { compile: { templateDirectory: 'broken-templates' } });
    const before = await stats();
    for (const extra of [['--yes'], ['--dry-run']]) {
      const result = await run('--config', 'broken.config.json', '--workdir', '.chargen-broken', ...extra);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`${join(project, 'broken-templates', 'partials', 'broken.hbs')} line 2, column 33: Parse error: Expecting 'OPEN_INVERSE_CHAIN', 'INVERSE', 'OPEN_ENDBLOCK', got 'EOF'`);
      expect(result.stderr).not.toMatch(stackTracePattern);
    }
    const after = await stats();
    expect([after.uploads, after.batchesCreated, after.requestsByModel]).toEqual([before.uploads, before.batchesCreated, before.requestsByModel]);
  });

  it('prices: a table naming one model keeps the default prices of the others; a model without a price says so in the plan', async () => {
    interface Plan { analyze: { costUsd: number }; synthesize: { costUsd: number }; costUsd: number; unpricedModels?: string[] }
    const bananaPrice = { inputPerMillionTokens: 0.25, outputPerMillionTokens: 1.5, imagePrices: { '1K': 0.02, '2K': 0.03 } };
    await writeConfig('priced.config.json', { compile: { model: 'gemini-nano-banana-2.1' }, prices: { 'gemini-nano-banana-2.1': bananaPrice } });
    const priced = await run('--config', 'priced.config.json', '--workdir', '.chargen-prices', '--dry-run', '--json');
    expect(priced.code, priced.stderr).toBe(0);
    const pricedPlan = (JSON.parse(priced.stdout) as { plan: Plan }).plan;
    expect(pricedPlan.analyze.costUsd).toBeGreaterThan(0);
    expect(pricedPlan.synthesize.costUsd).toBeGreaterThan(0);

    await writeConfig('unpriced.config.json', { compile: { model: 'gemini-nano-banana-2.1' } });
    const unpriced = await run('--config', 'unpriced.config.json', '--workdir', '.chargen-prices', '--dry-run');
    expect(unpriced.code, unpriced.stderr).toBe(0);
    expect(unpriced.stdout).toMatch(/no price for gemini-nano-banana-2\.1/);
    const json = await run('--config', 'unpriced.config.json', '--workdir', '.chargen-prices', '--dry-run', '--json');
    expect((JSON.parse(json.stdout) as { plan: Plan }).plan.unpricedModels).toEqual(['gemini-nano-banana-2.1']);
  });

  it("reads the config's paths from the config file's folder, not from where chargen runs", async () => {
    await cp(join(root, 'templates'), join(project, 'settings', 'templates'), { recursive: true });
    await writeConfig('settings/chargen.config.json', { input: '../input_images', out: '../renders', workdir: '../.chargen-settings', compile: { templateDirectory: 'templates', imageConfig: { aspectRatio: '3:4', imageSize: '1K' } } });
    const dry = await run('--config', 'settings/chargen.config.json', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    const result = await run('--config', 'settings/chargen.config.json', '--yes', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect((await readdir(join(project, 'renders'))).filter((name) => name.endsWith('.jpg')).sort()).toEqual(['bard.jpg', 'druid.jpg']);
    expect((await readdir(project)).sort()).toEqual(['.chargen-settings', 'broken-templates', 'broken.config.json', 'half-templates', 'half.config.json', 'input_images', 'missing.config.json', 'priced.config.json', 'renders', 'settings', 'unpriced.config.json']);
  });

  it('a damaged prompt in checkpoints.sqlite is named with its fix, compiling again (it costs nothing), which mends it', async () => {
    const workdir = '.chargen-damaged';
    const first = await run('--workdir', workdir, '--out', 'renders-damaged', '--yes');
    expect(first.code, first.stderr).toBe(0);
    const before = await stats();
    editCheckpointItem(join(project, workdir, 'checkpoints.sqlite'), { stage: 'compile', kind: 'prompt', edit: (value) => (value['variant'] = 0) });
    const damaged = await run('--workdir', workdir, '--out', 'renders-damaged', '--yes', '--json');
    expect(damaged.code, damaged.stderr).toBe(2);
    expect(damaged.stderr).toContain(`${join(workdir, 'checkpoints.sqlite')}`);
    expect(damaged.stderr).toContain('chargen run --only compile');
    const compiled = await run('--workdir', workdir, '--out', 'renders-damaged', '--yes', '--json', '--only', 'compile');
    expect(compiled.code, compiled.stderr).toBe(0);
    const again = await run('--workdir', workdir, '--out', 'renders-damaged', '--yes', '--json');
    expect(again.code, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout) as { stages: Record<string, { status: string; requestsSent: number }> };
    expect(summary.stages['synthesize']?.requestsSent).toBe(0);
    expect((await stats()).requestsByModel).toEqual(before.requestsByModel);
  });
});
