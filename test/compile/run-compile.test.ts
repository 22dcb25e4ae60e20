import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../pipeline/logger.ts';
import { runCompile } from '../../pipeline/run-compile.ts';
import { writeAnalysisCheckpoint } from '../../stages/analyze/analysis-checkpoint.ts';
import { promptsCheckpointPath, readPromptsCheckpoint } from '../../stages/compile/prompts-checkpoint.ts';
import { createAnalyzedImages } from '../support/sample-records.ts';

let cwd: string;
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'chargen-compile-'));
});
afterEach(async () => rm(cwd, { recursive: true, force: true }));

describe('chargen run --only compile', () => {
  it('says to run analyze first when there is no analysis checkpoint', async () => {
    await expect(runCompile({ cwd, workdir: '.chargen', logger: createMemoryLogger(), dryRun: false })).rejects.toThrow('run `chargen run --only analyze` first');
  });

  it('writes the prompts with their fingerprint, skips an unchanged compile, and recompiles when a record changes', async () => {
    const workspace = join(cwd, '.chargen');
    const records = createAnalyzedImages(5);
    await writeAnalysisCheckpoint(workspace, { records, failures: [], warnings: [] });
    const first = await runCompile({ cwd, workdir: '.chargen', logger: createMemoryLogger(), dryRun: false });
    expect(first).toMatchObject({ status: 'done', items: 5 });
    expect((await readPromptsCheckpoint(workspace))?.fingerprint).toBe(first.fingerprint);
    const writtenAt = (await stat(promptsCheckpointPath(workspace))).mtimeMs;

    const second = await runCompile({ cwd, workdir: '.chargen', logger: createMemoryLogger(), dryRun: false });
    expect(second.status).toBe('skipped');
    expect((await stat(promptsCheckpointPath(workspace))).mtimeMs).toBe(writtenAt);

    const changed = records.map((entry, index) => (index === 0 ? { ...entry, record: { ...entry.record, mood: 'furious' } } : entry));
    await writeAnalysisCheckpoint(workspace, { records: [...changed].reverse(), failures: [], warnings: [] });
    const third = await runCompile({ cwd, workdir: '.chargen', logger: createMemoryLogger(), dryRun: false });
    expect(third.status).toBe('done');
    expect(third.fingerprint).not.toBe(first.fingerprint);
    expect(third.prompts[0]?.prompt).toContain('furious');
  });

  it('hands the prompts back on a dry run and writes nothing', async () => {
    const workspace = join(cwd, '.chargen');
    await writeAnalysisCheckpoint(workspace, { records: createAnalyzedImages(2), failures: [], warnings: [] });
    const result = await runCompile({ cwd, workdir: '.chargen', logger: createMemoryLogger(), dryRun: true });
    expect(result.status).toBe('dry-run');
    expect(result.prompts).toHaveLength(2);
    expect(await readPromptsCheckpoint(workspace)).toBeUndefined();
  });
});
