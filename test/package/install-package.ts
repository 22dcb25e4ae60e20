// The packed tarball installed as a user installs it: `npm pack` of this clone (dist/ is current: the globalSetup
// built it), then scripts/install-tarball.js into an empty folder with the lockfile's dependencies and no dev ones.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repositoryRoot = join(import.meta.dirname, '..', '..');

export interface InstalledPackage {
  /** The folder with package.json and node_modules/chargen. */
  folder: string;
  /** The tarball's path. */
  tarball: string;
  /** Removes what this test run made (nothing of a folder given in CHARGEN_INSTALLED_PACKAGE). */
  remove(): Promise<void>;
}

/**
 * `CHARGEN_INSTALLED_PACKAGE=<folder>` (as .ci/run sets it) reuses a folder installed once for the run; otherwise
 * this packs and installs into a new temporary folder.
 */
export async function installPackedTarball(): Promise<InstalledPackage> {
  const given = process.env['CHARGEN_INSTALLED_PACKAGE'];
  if (given) {
    const tarball = (await readdir(given)).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`CHARGEN_INSTALLED_PACKAGE=${given} holds no .tgz: install one with scripts/install-tarball.js`);
    return { folder: given, tarball: join(given, tarball), remove: async () => {} };
  }
  const scratch = await mkdtemp(join(tmpdir(), 'chargen-package-'));
  // --ignore-scripts: no prepare; dist/ was brought up to date before the tests began.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: repositoryRoot, maxBuffer: 64 * 1024 * 1024 });
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  const folder = join(scratch, 'project');
  await run(process.execPath, [join(repositoryRoot, 'scripts', 'install-tarball.js'), join(scratch, filename), folder]);
  return { folder, tarball: join(folder, filename), remove: () => rm(scratch, { recursive: true, force: true }) };
}

/** The tarball's file names, without the leading `package/`. */
export async function listTarball(tarball: string): Promise<string[]> {
  const listed = await run('tar', ['tzf', tarball], { maxBuffer: 64 * 1024 * 1024 });
  return listed.stdout.split('\n').filter(Boolean).map((line) => line.replace(/^package\//, ''));
}

/** The environment a user without a key has: nothing that would pick a backend, key or setting for chargen. */
export function withoutChargenSettings(environment: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(environment).filter(([name]) => !/^(CHARGEN|GEMINI|GOOGLE)_/.test(name)));
}
