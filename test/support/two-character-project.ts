import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatorProcess, type EmulatorProcess } from './chargen-process.ts';

const root = join(import.meta.dirname, '..', '..');
export const twoCharacterConfig = {
  input: 'input_images',
  out: 'final_characters',
  compile: { templateDirectory: 'templates', model: 'gemini-3-pro-image', imageConfig: { aspectRatio: '3:4', imageSize: '1K' }, variants: 1 },
};

/**
 * A project of two sample characters (bard, knight), one image each, with the templates and a config in its folder,
 * and a `chargen emulator` process with short jobs: what the workspace migration tests make an old workspace from.
 */
export async function startTwoCharacterProject(options: { prefix: string }): Promise<{ project: string; emulator: EmulatorProcess; env: NodeJS.ProcessEnv }> {
  const project = await mkdtemp(join(tmpdir(), options.prefix));
  for (const name of ['bard.png', 'knight.png']) await cp(join(root, 'input_images', name), join(project, 'input_images', name));
  await cp(join(root, 'templates'), join(project, 'templates'), { recursive: true });
  await writeFile(join(project, 'chargen.config.json'), JSON.stringify(twoCharacterConfig));
  const emulator = await startEmulatorProcess({ pendingMilliseconds: 20, runningMilliseconds: 20 });
  const env = { ...process.env, GEMINI_API_KEY: 'migration-test-key', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl };
  return { project, emulator, env };
}
