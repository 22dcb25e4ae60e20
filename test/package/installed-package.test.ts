// What a user gets from `npm install chargen`: the packed tarball, installed into an empty folder with the lockfile's
// dependencies (no dev ones), runs its command on the built-in emulator and the library program of docs/library.md
// (compiled with tsc against the shipped declarations). .ci/run runs this file on Node 20 and on Node 24.
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPackedTarball, listTarball, repositoryRoot, withoutChargenSettings, type InstalledPackage } from './install-package.ts';

const execute = promisify(execFile);
/** Runs a program to its end; a failure says what it printed (tsc writes its errors to stdout). */
async function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; maxBuffer?: number }) {
  try {
    return await execute(file, args, options);
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${failed.message}
${failed.stdout ?? ''}
${failed.stderr ?? ''}`, { cause: error });
  }
}
const environment = withoutChargenSettings(process.env);
const manifest = JSON.parse(await readFile(join(repositoryRoot, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };

/** The ```ts block after the library-program marker in docs/library.md: the program the docs show is the one tested. */
async function readLibraryProgram(): Promise<string> {
  const text = await readFile(join(repositoryRoot, 'docs', 'library.md'), 'utf8');
  const match = /<!-- library-program[^>]*-->\s*```ts\n([\s\S]*?)```/.exec(text);
  if (!match?.[1]) throw new Error('docs/library.md: no ```ts block after <!-- library-program -->');
  return match[1];
}

/** A project folder of the sample images, as a user's. */
async function createProject(installed: InstalledPackage, name: string): Promise<string> {
  const project = join(installed.folder, name);
  await mkdir(project, { recursive: true });
  await cp(join(repositoryRoot, 'input_images'), join(project, 'input_images'), { recursive: true });
  return project;
}

describe('the packed tarball, installed into an empty folder', () => {
  let installed: InstalledPackage;
  let chargen: string;
  beforeAll(async () => {
    installed = await installPackedTarball();
    chargen = join(installed.folder, 'node_modules', 'chargen', 'bin', 'chargen.js');
  }, 600_000);
  afterAll(() => installed?.remove());

  it('holds the compiled code, declarations, templates, the config schema and the UI, and nothing of the tests', async () => {
    const files = await listTarball(installed.tarball);
    for (const needed of ['bin/chargen.js', 'dist/pipeline/cli/run-cli.js', 'dist/pipeline/public-api.d.ts', 'dist/emulator/public-api.js', 'templates/analysis.hbs', 'templates/character.hbs', 'schemas/chargen.config.schema.json', 'dist/pipeline/ui/assets/index.html', 'dist/emulator/schema/answer-words.json', 'package.json', 'README.md', 'CHANGELOG.md']) {
      expect(files).toContain(needed);
    }
    expect(files.filter((file) => file.startsWith('test/') || file.startsWith('bench/') || file.includes('fixtures') || file.endsWith('.tsbuildinfo'))).toEqual([]);
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('installs no dev dependency (tsx, typescript, vitest)', async () => {
    const modules = await readdir(join(installed.folder, 'node_modules'));
    expect(Object.keys(manifest.devDependencies).filter((name) => modules.includes(name))).toEqual([]);
  });

  it('npx chargen --version prints the version of package.json', async () => {
    const result = await run('npx', ['--no-install', 'chargen', '--version'], { cwd: installed.folder, env: environment });
    expect(result.stdout.trim()).toBe(manifest.version);
  });

  it('chargen doctor passes on the built-in emulator', async () => {
    const project = await createProject(installed, 'doctor-project');
    const result = await run(process.execPath, [chargen, 'doctor'], { cwd: project, env: environment });
    expect(result.stdout).toContain('Nothing failed');
  }, 120_000);

  it('chargen run makes an image for every character on the built-in emulator', async () => {
    const project = await createProject(installed, 'run-project');
    const result = await run(process.execPath, [chargen, 'run', '--yes', '--json', '--poll-interval', '200'], { cwd: project, env: environment, maxBuffer: 16 * 1024 * 1024 });
    const summary = JSON.parse(result.stdout) as { exitCode: number; outputs: unknown[]; backend?: { identity: string } };
    expect(summary.exitCode).toBe(0);
    expect(summary.backend?.identity).toBe('emulator');
    expect(summary.outputs).toHaveLength((await readdir(join(project, 'input_images'))).length);
  }, 180_000);

  it('chargen ui serves its page and scripts from the installed package (on the run above)', async () => {
    const project = join(installed.folder, 'run-project');
    const child = spawn(process.execPath, [chargen, 'ui', '--port', '0'], { cwd: project, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let url = '';
      for await (const line of createInterface({ input: child.stdout })) {
        url = /^chargen ui: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)?.[1] ?? '';
        if (url) break;
      }
      expect(url).not.toBe('');
      expect(await (await fetch(url)).text()).toContain('<!doctype html>');
      expect((await fetch(`${url}app.js`)).status).toBe(200);
    } finally {
      child.kill('SIGINT');
    }
  }, 60_000);

  it('compiles the library program of docs/library.md against the declarations (tsc, strict) and runs it', async () => {
    const project = await createProject(installed, 'library-project');
    await writeFile(join(installed.folder, 'generate.ts'), await readLibraryProgram());
    const tsc = join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '--module', 'nodenext', '--target', 'es2022', '--strict', '--types', 'node', 'generate.ts'], { cwd: installed.folder });
    const result = await run(process.execPath, [join(installed.folder, 'generate.js'), project], { cwd: installed.folder, env: environment });
    expect(result.stdout).toMatch(/^run: done, 6 images, exit code 0$/m);
    expect(result.stdout).toContain('analyze again: 0 requests sent');
  }, 240_000);
});
