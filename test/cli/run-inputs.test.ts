// What a new user meets before anything is spent: the input folder, the config's own files, prices, a damaged
// checkpoint. Each case runs `chargen run` as a child process, as a user runs it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargenBinary, runNodeProcess } from '../support/chargen-process.ts';

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
