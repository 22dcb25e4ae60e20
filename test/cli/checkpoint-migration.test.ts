import { createHash } from 'node:crypto';
import { access, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpointStore } from '../../lib/store/checkpoint-store.ts';
import { readAnalysisCheckpoint } from '../../stages/analyze/analysis-checkpoint.ts';
import { readPromptsCheckpoint } from '../../stages/compile/prompts-checkpoint.ts';
import { readSynthesizeCheckpoint } from '../../stages/synthesize/synthesize-checkpoint.ts';
import { chargenBinary, runNodeProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { startTwoCharacterProject } from '../support/two-character-project.ts';


const exists = (path: string) => access(path).then(() => true, () => false);
const writeJson = async (path: string, value: unknown) => {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
};

/**
 * Turns the workspace's checkpoint database back into the JSON files an older chargen kept (analyze/analysis.json,
 * compile/prompts.json, synthesize/outputs.json, synthesize/names/<folder hash>.json) and deletes the database.
 */
async function downgradeToJsonCheckpoints(workspaceDirectory: string, outputDirectory: string): Promise<void> {
  const analysis = await readAnalysisCheckpoint(workspaceDirectory);
  const prompts = await readPromptsCheckpoint(workspaceDirectory);
  const synthesis = await readSynthesizeCheckpoint(workspaceDirectory);
  const names = readCheckpointStore(workspaceDirectory, (store) => store.readNames(outputDirectory)) ?? new Map();
  await writeJson(join(workspaceDirectory, 'analyze', 'analysis.json'), analysis);
  await writeJson(join(workspaceDirectory, 'compile', 'prompts.json'), { kind: 'chargen-prompts', version: 1, ...prompts });
  await writeJson(join(workspaceDirectory, 'synthesize', 'outputs.json'), { kind: 'chargen-synthesis', version: 1, ...synthesis });
  const folderHash = createHash('sha256').update(outputDirectory).digest('hex').slice(0, 16);
  await writeJson(join(workspaceDirectory, 'synthesize', 'names', `${folderHash}.json`), { kind: 'chargen-output-names', version: 1, outputDirectory, names: Object.fromEntries(names) });
  for (const suffix of ['', '-wal', '-shm']) await rm(join(workspaceDirectory, `checkpoints.sqlite${suffix}`), { force: true });
}

describe('a workspace of JSON checkpoints (before checkpoints.sqlite) is moved into it once', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;

  const requestsSent = async () =>
    Object.values(((await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { requestsByModel: Record<string, number> }).requestsByModel).reduce((sum, count) => sum + count, 0);

  async function run(): Promise<{ code: number | undefined; sent: number; stdout: string; stderr: string }> {
    const before = await requestsSent();
    const result = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--json', '--yes', '--poll-interval', '50'], env });
    return { code: result.code ?? undefined, sent: (await requestsSent()) - before, stdout: result.stdout, stderr: result.stderr };
  }

  beforeAll(async () => {
    ({ project, emulator, env } = await startTwoCharacterProject({ prefix: 'chargen-checkpoint-migration-' }));
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.sent).toBe(4);
  }, 120_000);
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('pays for nothing, finds every stage current, keeps the names, and removes the files', async () => {
    const workspaceDirectory = join(project, '.chargen');
    const outputDirectory = join(project, 'final_characters');
    const before = (await readdir(outputDirectory)).sort();
    await downgradeToJsonCheckpoints(workspaceDirectory, outputDirectory);
    const rerun = await run();
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.sent).toBe(0);
    expect(rerun.stderr).toContain('moved into checkpoints.sqlite');
    const report = JSON.parse(rerun.stdout) as { stages: Record<string, { status: string; succeeded: number }> };
    expect(report.stages['analyze']).toMatchObject({ status: 'skipped', succeeded: 2 });
    expect(report.stages['compile']).toMatchObject({ status: 'skipped', succeeded: 2 });
    expect(report.stages['synthesize']).toMatchObject({ status: 'skipped', succeeded: 2 });
    expect((await readdir(outputDirectory)).sort()).toEqual(before);
    for (const path of [join('analyze', 'analysis.json'), join('compile', 'prompts.json'), join('synthesize', 'outputs.json'), join('synthesize', 'names')]) {
      const left = await exists(join(workspaceDirectory, path));
      if (path.endsWith('names')) expect(await readdir(join(workspaceDirectory, path)).catch(() => [])).toEqual([]);
      else expect(left).toBe(false);
    }
    expect(readCheckpointStore(workspaceDirectory, (store) => store.readNames(outputDirectory).size)).toBe(2);
  }, 120_000);
});
