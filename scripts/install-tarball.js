#!/usr/bin/env node
// Installs a packed chargen tarball into a folder as a user's project would have it, with the dependency versions
// of this clone's package-lock.json (never dev dependencies): the folder gets a package.json naming the tarball and a
// lockfile made from ours (chargen's own dependencies become the project's), then `npm ci --omit=dev`, which takes
// what the npm cache holds before asking the registry.
// better-sqlite3's install script fetches a prebuilt binary from GitHub, or compiles one (minutes) where GitHub is out
// of reach, as on CI: a build kept from before (below) is offered as a local prebuild (prebuild-install's
// npm_config_<package>_local_prebuilds), so the script runs as for a user, minus the compile.
// Run: node scripts/install-tarball.js <chargen-x.y.z.tgz> <folder>
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const [tarballArgument, folderArgument] = process.argv.slice(2);
if (!tarballArgument || !folderArgument) {
  process.stderr.write('usage: node scripts/install-tarball.js <chargen-x.y.z.tgz> <folder>\n');
  process.exit(2);
}
const root = join(import.meta.dirname, '..');
const folder = resolve(folderArgument);
mkdirSync(folder, { recursive: true });
const tarballName = basename(tarballArgument);
copyFileSync(resolve(tarballArgument), join(folder, tarballName));

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const specifier = `file:${tarballName}`;
const packages = {
  '': { name: 'chargen-install-check', dependencies: { chargen: specifier } },
  'node_modules/chargen': {
    version: manifest.version,
    resolved: specifier,
    integrity: `sha512-${createHash('sha512').update(readFileSync(join(folder, tarballName))).digest('base64')}`,
    license: manifest.license,
    dependencies: manifest.dependencies,
    bin: manifest.bin,
    engines: manifest.engines,
  },
};
for (const [path, entry] of Object.entries(lock.packages)) {
  if (path !== '' && !entry.dev) packages[path] = entry;
}
writeFileSync(join(folder, 'package.json'), `${JSON.stringify({ name: 'chargen-install-check', private: true, type: 'module', dependencies: { chargen: specifier } }, null, 2)}\n`);
writeFileSync(join(folder, 'package-lock.json'), `${JSON.stringify({ name: 'chargen-install-check', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
/**
 * Native builds of better-sqlite3 kept for the next install, named as prebuild-install names a release asset, in a
 * folder beside npm's cache: this clone's own build (when this Node loads it), and each build an install had to
 * compile (Node 24's, on CI), so that a machine compiles one once per version and Node.
 */
const nativeBuilds = join(execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim(), '_chargen-native-builds');
const betterSqlite = JSON.parse(readFileSync(join(root, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8'));
const nativeBuildName = `better-sqlite3-v${betterSqlite.version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;

/** Packs `packageFolder`'s build into the kept builds when this Node loads it; whether it did. */
function keepNativeBuild(packageFolder) {
  const binary = join(packageFolder, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(binary)) return false;
  try {
    process.dlopen({ exports: {} }, binary);
  } catch {
    return false; // built for another Node (another ABI)
  }
  mkdirSync(nativeBuilds, { recursive: true });
  execFileSync('tar', ['czf', join(nativeBuilds, nativeBuildName), '-C', packageFolder, 'build/Release/better_sqlite3.node']);
  return true;
}

const offered = existsSync(join(nativeBuilds, nativeBuildName)) || keepNativeBuild(join(root, 'node_modules', 'better-sqlite3'));
const environment = { ...process.env, npm_config_better_sqlite3_local_prebuilds: nativeBuilds };
execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: folder, stdio: 'inherit', env: environment });
if (!offered) keepNativeBuild(join(folder, 'node_modules', 'better-sqlite3'));
