import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chargenBinary, startEmulatorProcess, type EmulatorProcess, type ProcessResult } from '../support/chargen-process.ts';
import { createSampleJpeg, createSamplePng } from '../support/sample-images.ts';
import { editCheckpointItem } from '../support/edit-checkpoint-item.ts';
import type { RunJsonSummary } from '../../pipeline/cli/run-command.ts';
import { inspectImage } from '../../lib/media/inspect-image.ts';

// Issue 8: hostile and broken input, secrets, concurrency and tampered workspaces, all through `chargen run` as a
// child process against `chargen emulator`, as a user would run it.

/** Distinctive, so that finding it anywhere is proof of a leak and never a coincidence. */
const apiKey = 'fakeKey-dummy-hostile-input-key-5c2e81f7a9';
const config = { compile: { imageConfig: { aspectRatio: '1:1', imageSize: '1K' } } };
/** What only a call stack looks like in printed output. */
const stackTracePattern = /\n\s+at /;
/** The characters README promises for output names: letters and digits of any script, `.`, `_` and `-`. */
const safeNamePattern = /^[\p{L}\p{N}._-]+$/u;

type RunSummary = RunJsonSummary;

interface RunResult extends ProcessResult {
  summary: RunSummary | undefined;
}

interface EmulatorCounts {
  requestsByModel: Record<string, number>;
  uploads: number;
  batchesCreated: number;
  generateContentCalls: number;
}

const createSmallPng = (seed: string) => createSamplePng(seed, { width: 32, height: 32 });

// Names that are distinct files on Linux but look alike to people and to careless code.
const nfcName = 'Zo\u00eb.png';
const nfdName = 'Zoe\u0308.png';
/** 125 two-byte letters and `.png`: 254 bytes, as long as most file systems allow. */
const cyrillicName = `${'\u0436'.repeat(125)}.png`;
/** 255 bytes. */
const longAsciiName = `${'l'.repeat(251)}.png`;
const leadingDotName = '.leading-dot.png';

/** The character an image is: its folder (`left/`), or the image itself directly in the input folder. */
const characterOf = (path: string) => (path.includes('/') ? `${path.slice(0, path.lastIndexOf('/'))}/` : path);

/** Images that should each become exactly one output (one a character: each here is alone in its folder). */
const goodFiles: readonly { path: string; content: Buffer }[] = [
  { path: nfcName, content: createSmallPng('nfc') },
  { path: nfdName, content: createSmallPng('nfd') },
  { path: 'with space.png', content: createSmallPng('space') },
  { path: `it's "quoted".png`, content: createSmallPng('quotes') },
  { path: 'a..b.png', content: createSmallPng('dots') },
  { path: leadingDotName, content: createSmallPng('leading-dot') },
  { path: 'back\\slash.png', content: createSmallPng('backslash') },
  { path: 'con.png', content: createSmallPng('reserved-device-name') },
  { path: longAsciiName, content: createSmallPng('long-ascii') },
  { path: cyrillicName, content: createSmallPng('long-cyrillic') },
  { path: 'Hero.png', content: createSmallPng('upper-case') },
  { path: 'hero.png', content: createSmallPng('lower-case') },
  { path: 'twin-a.png', content: createSmallPng('twin') },
  { path: 'twin-b.png', content: createSmallPng('twin') },
  { path: 'left/portrait.png', content: createSmallPng('left') },
  { path: 'right/portrait.png', content: createSmallPng('right') },
  { path: 'x.png/inside.png', content: createSmallPng('inside-a-folder-named-like-an-image') },
  { path: 'disguised.png', content: createSampleJpeg({ width: 40, height: 40 }) },
];

/** Entries that must each be dead-lettered by name with a reason a person understands. */
const badEntries: readonly { path: string; reason: RegExp }[] = [
  { path: 'empty.png', reason: /empty/ },
  { path: 'truncated.png', reason: /truncated PNG/ },
  { path: 'notes.jpg', reason: /not an image/ },
  { path: 'outside-link.png', reason: /symbolic link out of the input folder/ },
  { path: 'loop-a.png', reason: /symbolic link/ },
  { path: 'loop-b.png', reason: /symbolic link/ },
  { path: 'x.png', reason: /folder/ },
  { path: 'mirror.png', reason: /folder/ },
];

/** Good names that once failed (an upload header that refused them, a scan that skipped them); each has its own test. */
const namesFailingUpload = [nfdName, cyrillicName];

async function createHostileCorpus(options: { root: string; input: string }): Promise<void> {
  const { input } = options;
  for (const file of goodFiles) {
    await mkdir(dirname(join(input, file.path)), { recursive: true });
    await writeFile(join(input, file.path), file.content);
  }
  const wholePng = createSmallPng('truncated');
  await writeFile(join(input, 'empty.png'), '');
  await writeFile(join(input, 'truncated.png'), wholePng.subarray(0, Math.floor(wholePng.length / 2)));
  await writeFile(join(input, 'notes.jpg'), 'Notes for the bard: taller hat, kinder eyes.\n');
  const outside = join(options.root, 'outside');
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'elsewhere.png'), createSmallPng('outside'));
  await symlink(join(outside, 'elsewhere.png'), join(input, 'outside-link.png'));
  await symlink('loop-b.png', join(input, 'loop-a.png'));
  await symlink('loop-a.png', join(input, 'loop-b.png'));
  // Links to the input folder itself: followed, they would loop forever.
  await symlink('.', join(input, 'mirror.png'));
  await symlink('.', join(input, 'deeper'));
}

/** The environment a user would have: the dummy key and the emulator's URL, nothing chargen-specific inherited. */
function createChargenEnvironment(baseUrl: string): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('CHARGEN_') && name !== 'GEMINI_API_KEY' && name !== 'GOOGLE_API_KEY');
  return { ...Object.fromEntries(inherited), GEMINI_API_KEY: apiKey, CHARGEN_BASE_URL: baseUrl };
}

/** Starts `chargen <args>` and hands back its pid at once, which the lock message must name. */
function startChargen(options: { cwd: string; args: readonly string[]; env: NodeJS.ProcessEnv }): { pid: number; finished: Promise<ProcessResult> } {
  const child = spawn(process.execPath, [chargenBinary, ...options.args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  // Decoded by the stream, not per chunk: a Cyrillic name must not be cut in half where a chunk ends.
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const finished = once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { pid: child.pid as number, finished };
}

function parseSummary(stdout: string): RunSummary | undefined {
  const text = stdout.trim();
  if (!text.startsWith('{')) return undefined;
  return JSON.parse(text) as RunSummary;
}

/** A `chargen` runner that keeps everything printed, for the stack-trace and key checks. */
function createRunner(options: { cwd: () => string; env: () => NodeJS.ProcessEnv }) {
  const printed: string[] = [];
  return {
    printed,
    keep(result: ProcessResult): RunResult {
      printed.push(result.stdout, result.stderr);
      return { ...result, summary: parseSummary(result.stdout) };
    },
    async run(...args: string[]): Promise<RunResult> {
      return this.keep(await startChargen({ cwd: options.cwd(), args, env: options.env() }).finished);
    },
  };
}

/** The names the workspace keeps for its output folders (in its checkpoint database), as one text to compare. */
async function readOutputNamesFiles(project: string): Promise<string> {
  const database = new Database(join(project, '.chargen', 'checkpoints.sqlite'), { readonly: true });
  try {
    const rows = database.prepare('SELECT output_directory, entry, base_name FROM output_names ORDER BY output_directory, entry').all() as { output_directory: string }[];
    expect(new Set(rows.map((row) => row.output_directory)).size).toBe(1);
    return JSON.stringify(rows);
  } finally {
    database.close();
  }
}

async function readEmulatorCounts(emulator: EmulatorProcess): Promise<EmulatorCounts> {
  const stats = (await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as EmulatorCounts;
  return { requestsByModel: stats.requestsByModel, uploads: stats.uploads, batchesCreated: stats.batchesCreated, generateContentCalls: stats.generateContentCalls };
}

/**
 * Every entry under `root`, links not followed, with what a write would change: kind, size, modification time, link
 * target. A folder's time changes when anything is created or removed in it, so even a temporary file shows.
 * `exclude` subtrees are left out; `timeless` folders are those where creating the excluded ones is expected.
 */
async function describeTree(root: string, options: { exclude?: readonly string[]; timeless?: readonly string[] } = {}): Promise<Record<string, string>> {
  const exclude = new Set(options.exclude ?? []);
  const timeless = new Set(options.timeless ?? []);
  const entries: Record<string, string> = {};
  async function visit(relativePath: string): Promise<void> {
    const path = join(root, relativePath);
    const info = await lstat(path);
    const key = relativePath || '.';
    if (info.isSymbolicLink()) {
      entries[key] = `link → ${await readlink(path)}`;
    } else if (info.isDirectory()) {
      entries[key] = timeless.has(relativePath) ? 'folder' : `folder, modified ${info.mtimeMs}`;
      for (const name of (await readdir(path)).sort()) {
        const child = relativePath ? join(relativePath, name) : name;
        if (!exclude.has(child)) await visit(child);
      }
    } else {
      entries[key] = `file, ${info.size} bytes, modified ${info.mtimeMs}`;
    }
  }
  await visit('');
  return entries;
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** The key, as text and as base64 (how a careless request dump would carry it), in no file name, file or output. */
async function expectKeyNowhere(options: { folders: readonly string[]; printed: readonly string[] }): Promise<void> {
  const needles = [apiKey, Buffer.from(apiKey).toString('base64')];
  for (const folder of options.folders) {
    const files = await listFiles(folder);
    expect(files.length, `${folder} holds files`).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = await readFile(file);
      for (const needle of needles) {
        expect(file.includes(needle), file).toBe(false);
        expect(bytes.includes(needle), `the key is in ${file}`).toBe(false);
      }
    }
  }
  for (const text of options.printed) {
    for (const needle of needles) expect(text.includes(needle), 'the key was printed').toBe(false);
  }
}

function expectNoStackTrace(printed: readonly string[]): void {
  for (const text of printed) expect(text, 'a stack trace was printed').not.toMatch(stackTracePattern);
}

describe('chargen run on a hostile input folder', () => {
  let root: string;
  let project: string;
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;
  const runner = createRunner({ cwd: () => project, env: () => env });
  let first: RunResult;
  let rerun: RunResult;
  let treeBefore: Record<string, string>;
  let treeAfter: Record<string, string>;
  let outputFolderAfterFirst: Record<string, string>;
  let outputFolderAfterRerun: Record<string, string>;
  let namesAfterFirst: string;
  let namesAfterRerun: string;
  let countsAfterFirst: EmulatorCounts;
  let countsAfterRerun: EmulatorCounts;
  const everythingButOutputs = { exclude: ['project/final_characters', 'project/.chargen'], timeless: ['project'] };
  const requireSummary = (result: RunResult) => {
    expect(result.summary, `no JSON summary; stderr:\n${result.stderr}`).toBeDefined();
    return result.summary as RunSummary;
  };
  const findOutputs = (path: string) => requireSummary(first).outputs.filter((output) => output.source === join('input_images', path));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'chargen-hostile-'));
    project = join(root, 'project');
    await createHostileCorpus({ root, input: join(project, 'input_images') });
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify(config));
    emulator = await startEmulatorProcess({ pendingMilliseconds: 50, runningMilliseconds: 50 });
    env = createChargenEnvironment(emulator.baseUrl);
    treeBefore = await describeTree(root, everythingButOutputs);

    first = await runner.run('run', '--yes', '--json');
    outputFolderAfterFirst = await describeTree(join(project, 'final_characters'));
    namesAfterFirst = await readOutputNamesFiles(project);
    countsAfterFirst = await readEmulatorCounts(emulator);

    rerun = await runner.run('run', '--yes', '--json');
    outputFolderAfterRerun = await describeTree(join(project, 'final_characters'));
    namesAfterRerun = await readOutputNamesFiles(project);
    countsAfterRerun = await readEmulatorCounts(emulator);
    treeAfter = await describeTree(root, everythingButOutputs);
  }, 50_000);

  afterAll(async () => {
    await emulator?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('exits 3 and dead-letters every bad file by its name, with a clear reason and a fix', () => {
    expect(first.code, first.stderr).toBe(3);
    const summary = requireSummary(first);
    expect(summary.exitCode).toBe(3);
    for (const bad of badEntries) {
      const letters = summary.deadLetter.filter((letter) => letter.source === bad.path);
      expect(letters, bad.path).toEqual([{ stage: 'analyze', source: bad.path, reason: expect.stringMatching(bad.reason) }]);
      // The same reason on stderr for people, followed by what to do about it.
      const line = first.stderr.split('\n').find((text) => text.startsWith(`warning: ${bad.path}: ${letters[0]?.reason}. `));
      expect(line, `stderr names ${bad.path} with its reason and fix`).toMatch(/\. \S.{10,}$/);
      expect(findOutputs(bad.path), bad.path).toEqual([]);
    }
    // A link to the input folder itself is not followed: nothing is found twice through it.
    expect(summary.outputs.filter((output) => output.source.startsWith(join('input_images', 'deeper')))).toEqual([]);
    expect(summary.deadLetter.filter((letter) => letter.source.startsWith('deeper'))).toEqual([]);
    // Only bad files are dead-lettered.
    const expected = new Set(badEntries.map((bad) => bad.path));
    expect(summary.deadLetter.map((letter) => letter.source).filter((source) => !expected.has(source))).toEqual([]);
    expect(first.stderr).toMatch(/disguised\.png: named like PNG but is JPEG/);
  });

  it('gives every good file exactly one image and sidecar, under a distinct safe name, in the output folder', async () => {
    const summary = requireSummary(first);
    for (const good of goodFiles) {
      expect(findOutputs(characterOf(good.path)), good.path).toHaveLength(1);
      expect(summary.deadLetter.filter((letter) => letter.source === characterOf(good.path)), good.path).toEqual([]);
    }
    const baseNames = new Set<string>();
    for (const output of summary.outputs) {
      for (const path of [output.image, output.sidecar]) {
        expect(dirname(path), path).toBe('final_characters');
        const name = basename(path);
        expect(name, path).toMatch(safeNamePattern);
        expect(name.startsWith('.') || name.includes('..'), path).toBe(false);
        expect(Buffer.byteLength(name), path).toBeLessThanOrEqual(255);
      }
      const baseName = basename(output.image).replace(/\.jpg$/, '');
      expect(basename(output.image), output.image).toBe(`${baseName}.jpg`);
      expect(basename(output.sidecar), output.sidecar).toBe(`${baseName}.json`);
      baseNames.add(baseName.normalize('NFC').toLowerCase());

      const sidecar = JSON.parse(await readFile(join(project, output.sidecar), 'utf8')) as { source: { path: string }; image: { file: string } };
      expect(join('input_images', sidecar.source.path), output.sidecar).toBe(output.source);
      expect(sidecar.image.file).toBe(basename(output.image));
      expect(inspectImage(await readFile(join(project, output.image))), output.image).toMatchObject({ ok: true, format: 'jpeg', width: 1024, height: 1024 });
    }
    // Distinct even where a file system folds case or Unicode normalisation.
    expect(baseNames.size).toBe(summary.outputs.length);
    // The output folder holds these and the contact sheet, nothing else: no temporary file, no stray copy.
    const expectedFiles = [
      ...summary.outputs.flatMap((output) => [basename(output.image), basename(output.sidecar), basename(output.image).replace(/\.jpg$/, '.thought-signature')]),
      'index.html',
    ].sort();
    expect((await readdir(join(project, 'final_characters'))).sort()).toEqual(expectedFiles);
  });

  // Once a bug: the SDK's path upload puts the local file name in the X-Goog-Upload-File-Name header, which refuses any
  // character above U+00FF ("Cannot convert argument to a ByteString"): such images are dead-lettered as "upload
  // failed" on every run. pipeline/gemini/upload-files.ts now uploads `await openAsBlob(candidate.path, { type })`.
  it('uploads images whose names go beyond Latin-1 (an NFD name, a Cyrillic one) like any other', async () => {
    const summary = requireSummary(first);
    for (const name of namesFailingUpload) {
      expect(summary.deadLetter.filter((letter) => letter.source === name), name).toEqual([]);
      expect(findOutputs(name), name).toHaveLength(1);
    }
    expect(findOutputs(nfdName)[0]?.image).not.toBe(findOutputs(nfcName)[0]?.image);
  });

  // Once a bug: scanImages globbed with `dot: false`, so an image whose name starts with a dot is neither made nor reported.
  // Now `dot: true` (an AppleDouble `._x.png` is then reported as not an image).
  it('makes an image whose name starts with a dot, under a name without it, instead of skipping it silently', () => {
    const outputs = findOutputs(leadingDotName);
    expect(outputs).toHaveLength(1);
    expect(basename(outputs[0]?.image ?? '.').startsWith('.')).toBe(false);
  });

  it('writes nothing outside the output folder and the workspace, and changes nothing in the input folder', () => {
    expect(Object.keys(treeBefore)).toContain(join('project', 'input_images', 'outside-link.png'));
    expect(treeAfter).toEqual(treeBefore);
  });

  it('prints no stack trace', () => {
    expect(runner.printed.length).toBeGreaterThan(0);
    expectNoStackTrace(runner.printed);
  });

  it('a rerun sends nothing and names nothing differently', () => {
    expect(rerun.code, rerun.stderr).toBe(3);
    expect(countsAfterRerun).toEqual(countsAfterFirst);
    const again = requireSummary(rerun);
    expect(again.stages.synthesize.requestsSent).toBe(0);
    expect(again.stages.analyze.requestsSent).toBe(0);
    expect(again.outputs).toEqual(requireSummary(first).outputs);
    expect(again.deadLetter).toEqual(requireSummary(first).deadLetter);
    expect(namesAfterRerun).toBe(namesAfterFirst);
    // Not one output rewritten either: same files, sizes and times.
    expect(outputFolderAfterRerun).toEqual(outputFolderAfterFirst);
  });

  it('leaves the key in no file of the workspace or the output folder, and prints it nowhere', async () => {
    await expectKeyNowhere({ folders: [join(project, '.chargen'), join(project, 'final_characters')], printed: runner.printed });
  });
});

describe('one workspace, run twice at once and tampered with', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;
  const runner = createRunner({ cwd: () => project, env: () => env });
  let workspaceDirectory: string;

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-shared-'));
    workspaceDirectory = join(project, '.chargen');
    await mkdir(join(project, 'input_images'), { recursive: true });
    for (const seed of ['alpha', 'beta', 'gamma']) {
      await writeFile(join(project, 'input_images', `${seed}.png`), createSmallPng(seed));
    }
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify(config));
    // Jobs that take a moment, so that the first run surely still holds the lock when the second one asks for it.
    emulator = await startEmulatorProcess({ pendingMilliseconds: 400, runningMilliseconds: 100 });
    env = createChargenEnvironment(emulator.baseUrl);
  });

  afterAll(async () => {
    await emulator?.stop();
    if (project) await rm(project, { recursive: true, force: true });
  });

  describe('two runs started at the same time', () => {
    it('one proceeds, the other exits 2 naming the lock holder; the workspace stays whole and a third run sends nothing', async () => {
      const started = [0, 1].map(() => startChargen({ cwd: project, args: ['run', '--yes', '--json'], env }));
      const results = (await Promise.all(started.map((run) => run.finished))).map((result) => runner.keep(result));
      expect(
        results.map((result) => result.code).sort(),
        results.map((result) => result.stderr).join('\n---\n'),
      ).toEqual([0, 2]);
      const winner = results.findIndex((result) => result.code === 0);
      const loser = results[1 - winner] as RunResult;
      expect(loser.stderr).toContain(`in use by process ${started[winner]?.pid}`);
      expect(loser.stderr).toContain(join(workspaceDirectory, 'lock'));
      expect(loser.summary).toMatchObject({ exitCode: 2, error: { code: 'workspace-locked' } });
      expectNoStackTrace([loser.stdout, loser.stderr, results[winner]?.stderr ?? '']);

      const files = await listFiles(workspaceDirectory);
      expect(files.map((file) => basename(file))).not.toContain('lock');
      expect(files.filter((file) => file.endsWith('.tmp'))).toEqual([]);
      for (const file of files.filter((path) => path.endsWith('.json'))) {
        const text = await readFile(file, 'utf8');
        expect(() => JSON.parse(text), file).not.toThrow();
      }
      for (const file of files.filter((path) => path.endsWith('.jsonl'))) {
        for (const line of (await readFile(file, 'utf8')).split('\n').filter(Boolean)) expect(() => JSON.parse(line), file).not.toThrow();
      }

      const before = await readEmulatorCounts(emulator);
      const third = await runner.run('run', '--yes', '--json');
      expect(third.code, third.stderr).toBe(0);
      expect(await readEmulatorCounts(emulator)).toEqual(before);
      expect(third.summary?.stages).toMatchObject({ analyze: { status: 'skipped' }, synthesize: { status: 'skipped', requestsSent: 0 } });
      expect(third.summary?.outputs).toEqual(results[winner]?.summary?.outputs);
      expect(third.summary?.outputs).toHaveLength(3);
    }, 40_000);
  });

  describe('workspace files tampered with', () => {
    /** A copy of the finished project, restored before each case. */
    let pristineDirectory: string;

    interface TamperCase {
      name: string;
      /** The file, found in the workspace (some names are generated). */
      locate: () => Promise<string>;
      tamper: (path: string) => Promise<void>;
      /** A stage that is up to date reads no job record or result cache: these make the stage that owns it run. */
      args: readonly string[];
      advice: RegExp;
      /** Does what the message advises; resolves with the command to run afterwards. */
      followAdvice: (options: { path: string; message: string }) => Promise<readonly string[]>;
    }

    const findOnlyFile = async (folder: string, pattern: RegExp) => {
      const matches = (await listFiles(folder)).filter((file) => pattern.test(file));
      expect(matches, `${pattern} under ${folder}`).toHaveLength(1);
      return matches[0] as string;
    };
    const editJsonFile = async (path: string, edit: (value: Record<string, unknown>) => void) => {
      const value = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
      edit(value);
      await writeFile(path, JSON.stringify(value, null, 2));
    };
    /** Runs the `chargen run …` command the message names, as a user would copy it. */
    const readAdvisedCommand = async ({ message }: { message: string }) => {
      const command = /`chargen (run[^`]*)`/.exec(message)?.[1];
      expect(command, message).toBeDefined();
      return [...(command as string).split(' ').filter(Boolean), '--yes'];
    };

    // For each checkpoint the advice is a `chargen run --from/--only`; a forced stage does not read its old checkpoint
    // (it once did, and failed the same way, sending the user in a circle).
    const cases: readonly TamperCase[] = [
      {
        name: 'the analysis checkpoint with a width that is not a number',
        locate: async () => join(workspaceDirectory, 'checkpoints.sqlite'),
        tamper: async (path) => void editCheckpointItem(path, { stage: 'analyze', kind: 'record', edit: (value) => (value['width'] = 'wide') }),
        args: [],
        advice: /Run `chargen run --from analyze`/,
        followAdvice: readAdvisedCommand,
      },
      {
        name: 'the outputs checkpoint with a variant that is a word',
        locate: async () => join(workspaceDirectory, 'checkpoints.sqlite'),
        tamper: async (path) => void editCheckpointItem(path, { stage: 'synthesize', kind: 'output', edit: (value) => (value['variant'] = 'first') }),
        args: [],
        advice: /Run `chargen run --from synthesize`/,
        followAdvice: readAdvisedCommand,
      },
      {
        // Compiling costs nothing: the advice is to compile again, which sends nothing.
        name: 'the prompts checkpoint with variant 0',
        locate: async () => join(workspaceDirectory, 'checkpoints.sqlite'),
        tamper: async (path) => void editCheckpointItem(path, { stage: 'compile', kind: 'prompt', edit: (value) => (value['variant'] = 0) }),
        args: [],
        advice: /Run `chargen run --only compile`/,
        followAdvice: readAdvisedCommand,
      },
      {
        name: 'the checkpoint database with garbage over its header',
        locate: async () => join(workspaceDirectory, 'checkpoints.sqlite'),
        tamper: async (path) => {
          const bytes = await readFile(path);
          bytes.fill(0x7b, 0, 100);
          await writeFile(path, bytes);
        },
        args: [],
        advice: /Delete it and run `chargen run` again/,
        followAdvice: async ({ path }) => {
          await rm(path);
          return ['run', '--yes'];
        },
      },
      {
        name: 'the workspace file with an id that is not one',
        locate: async () => join(workspaceDirectory, 'workspace.json'),
        tamper: (path) => editJsonFile(path, (value) => (value['id'] = '../../elsewhere')),
        args: [],
        advice: /delete the whole workspace folder/,
        followAdvice: async () => {
          await rm(workspaceDirectory, { recursive: true, force: true });
          return ['run', '--yes'];
        },
      },
      {
        name: 'a job record that is not JSON',
        locate: () => findOnlyFile(workspaceDirectory, /[/\\]jobs[/\\]analyze[/\\][^/\\]+\.json$/),
        tamper: (path) => writeFile(path, '{"version": 1, "displayName": "chargen-'),
        args: ['--from', 'analyze'],
        advice: /restore it or delete it/,
        followAdvice: async ({ path }) => {
          await rm(path);
          return ['run', '--yes', '--from', 'analyze'];
        },
      },
      {
        // The answers live in the backend's SQLite database now (the result logs were moved into it): a file that is
        // no database any more is named, with what to do, before anything is sent.
        name: 'the backend database with garbage over its header',
        locate: () => findOnlyFile(workspaceDirectory, /[/\\]state\.sqlite$/),
        tamper: async (path) => {
          const bytes = await readFile(path);
          expect(bytes.subarray(0, 15).toString('latin1'), 'an SQLite database').toBe('SQLite format 3');
          bytes.fill(0x7b, 0, 100);
          await writeFile(path, bytes);
        },
        // A run with every stage current never opens it; a forced analysis reads its answers from it.
        args: ['--from', 'analyze'],
        advice: /delete the workspace folder/,
        followAdvice: async () => {
          await rm(workspaceDirectory, { recursive: true, force: true });
          return ['run', '--yes', '--from', 'analyze'];
        },
      },
    ];

    beforeAll(async () => {
      // Whatever the concurrency test left, start from a finished workspace and keep a copy to restore.
      const ready = await runner.run('run', '--yes', '--json');
      expect(ready.code, ready.stderr).toBe(0);
      pristineDirectory = `${project}-pristine`;
      await rm(pristineDirectory, { recursive: true, force: true });
      await cp(project, pristineDirectory, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    }, 30_000);

    beforeEach(async () => {
      for (const folder of ['.chargen', 'final_characters']) {
        await rm(join(project, folder), { recursive: true, force: true });
        await cp(join(pristineDirectory, folder), join(project, folder), { recursive: true, preserveTimestamps: true });
      }
    });

    afterAll(async () => {
      if (pristineDirectory) await rm(pristineDirectory, { recursive: true, force: true });
    });

    for (const tamperCase of cases) {
      it(`${tamperCase.name}: run exits 2 naming the file and what to do, with no stack trace`, async () => {
        const path = await tamperCase.locate();
        await tamperCase.tamper(path);
        const result = await runner.run('run', '--yes', '--json', ...tamperCase.args);
        expect(result.code, result.stderr).toBe(2);
        expect(result.summary?.error?.code).toBe('workspace-file-invalid');
        expect(result.stderr).toContain(`error: ${path}: `);
        expect(result.stderr).toMatch(tamperCase.advice);
        expectNoStackTrace([result.stdout, result.stderr]);
      }, 20_000);

      it(`${tamperCase.name}: following the advice mends the workspace`, async () => {
        const path = await tamperCase.locate();
        await tamperCase.tamper(path);
        const broken = await runner.run('run', '--yes', ...tamperCase.args);
        expect(broken.code).toBe(2);
        const advised = await runner.run(...(await tamperCase.followAdvice({ path, message: broken.stderr })));
        expect(advised.code, advised.stderr).toBe(0);
        const after = await runner.run('run', '--yes', '--json');
        expect(after.code, after.stderr).toBe(0);
        expect(after.summary?.outputs).toHaveLength(3);
      }, 30_000);
    }
  });

  it('leaves the key in no file of the workspace or the output folder, and prints it nowhere', async () => {
    expect(runner.printed.length).toBeGreaterThan(0);
    await expectKeyNowhere({ folders: [workspaceDirectory, join(project, 'final_characters')], printed: runner.printed });
  });
});

