// A workspace that chargen made before characters were folders pays for nothing again: a character of one image
// keeps its analysis request and key, and its image request and key (test/fixtures/workspace-before-characters).
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargenBinary, runNodeProcess } from '../support/chargen-process.ts';

const root = join(import.meta.dirname, '..', '..');
const fixture = join(root, 'test', 'fixtures', 'workspace-before-characters');

/** The image requests' keys the workspace was paid for (its state.sqlite), by the output they made then. */
const paidImageKeys = {
  'knight.png': 'f285948a03e1b2f3712f47d16079bee8a4f1f78f2eccdff71f61ed0e42af438c',
  'heroes/zoe.png': '9ce53d8a1c69ab56c26b6fa0173033e9db0a86543649dd72a8d292c4864b9387',
};

describe('a workspace made before characters were folders', () => {
  let project = '';
  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-characters-migration-'));
    await cp(join(root, 'input_images', 'knight.png'), join(project, 'input_images', 'knight.png'));
    await cp(join(root, 'input_images', 'mage.png'), join(project, 'input_images', 'heroes', 'zoe.png'));
    await cp(join(fixture, 'templates'), join(project, 'templates'), { recursive: true });
    await cp(join(fixture, 'chargen.config.json'), join(project, 'chargen.config.json'));
    await cp(join(fixture, 'workspace'), join(project, '.chargen'), { recursive: true });
  });
  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
  });

  it('sends no analysis and no image request again: a one-image character keeps its requests and keys', async () => {
    // No key: the built-in emulator, the backend the workspace was made on.
    const env = { ...process.env, GEMINI_API_KEY: '', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: '' };
    const result = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--json', '--yes', '--poll-interval', '50'], env });
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { stages: Record<string, { requestsSent: number; succeeded: number }> };
    expect(summary.stages['analyze']).toMatchObject({ succeeded: 2, requestsSent: 0 });
    expect(summary.stages['synthesize']).toMatchObject({ succeeded: 2, requestsSent: 0 });
    // The loose image keeps its name; the folder of one image is now the character heroes/, named after it.
    const knight = JSON.parse(await readFile(join(project, 'final_characters', 'knight.json'), 'utf8')) as { key: string; references: { path: string }[] };
    const heroes = JSON.parse(await readFile(join(project, 'final_characters', 'heroes.json'), 'utf8')) as { key: string; source: { path: string }; references: { path: string }[] };
    expect(knight.key).toBe(paidImageKeys['knight.png']);
    expect(heroes.key).toBe(paidImageKeys['heroes/zoe.png']);
    expect(heroes.source.path).toBe('heroes/');
    expect(heroes.references.map((reference) => reference.path)).toEqual(['heroes/zoe.png']);
  }, 120_000);
});
