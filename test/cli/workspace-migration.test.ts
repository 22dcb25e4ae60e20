import { access, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargenBinary, runNodeProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { startTwoCharacterProject, twoCharacterConfig as config } from '../support/two-character-project.ts';
import { describeOutputFolder } from '../support/describe-output-folder.ts';


const exists = (path: string) => access(path).then(() => true, () => false);

/**
 * Turns a backend's database back into the result logs chargen kept before it (`results/<stage>.jsonl`: a header
 * line naming the kind and version, then one outcome per line, as lib/store/append-log.ts wrote them) and the upload
 * registry (`uploads.jsonl`), and deletes the database: the workspace an older chargen left, with every answer it paid for.
 */
async function downgradeToResultLogs(backendDirectory: string, options: { tornLastLine?: boolean } = {}): Promise<Record<string, number>> {
  const database = new Database(join(backendDirectory, 'state.sqlite'), { readonly: true });
  const rows = database.prepare('SELECT stage, outcome FROM outcomes ORDER BY stage, key').all() as { stage: string; outcome: string }[];
  const uploadRows = database.prepare('SELECT sha256, name, uri, mime_type AS mimeType, size_bytes AS sizeBytes, expiration_time AS expirationTime FROM uploads').all();
  database.close();
  const byStage = new Map<string, string[]>();
  for (const row of rows) byStage.set(row.stage, [...(byStage.get(row.stage) ?? []), row.outcome]);
  await mkdir(join(backendDirectory, 'results'), { recursive: true });
  for (const [stage, lines] of byStage) {
    const torn = options.tornLastLine ? '{"key":"cut-sh' : '';
    await writeFile(join(backendDirectory, 'results', `${stage}.jsonl`), `${JSON.stringify({ kind: 'chargen-result-cache', version: 1 })}\n${lines.join('\n')}\n${torn}`);
  }
  const uploads = uploadRows.map((row) => JSON.stringify(row));
  await writeFile(join(backendDirectory, 'uploads.jsonl'), `${JSON.stringify({ kind: 'chargen-upload-registry', version: 1 })}\n${uploads.map((line) => `${line}\n`).join('')}`);
  for (const suffix of ['', '-wal', '-shm']) await rm(join(backendDirectory, `state.sqlite${suffix}`), { force: true });
  return Object.fromEntries([...byStage].map(([stage, lines]) => [stage, lines.length]));
}

describe('a workspace of result logs (before the database) is moved into it once', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;
  let backendDirectory: string;

  const requestsByModel = async () =>
    ((await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { requestsByModel: Record<string, number> }).requestsByModel;

  const countUploads = async () => ((await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { uploads: number }).uploads;

  async function run(): Promise<{ code: number | undefined; sent: number; uploads: number; stderr: string }> {
    const before = await requestsByModel();
    const uploadsBefore = await countUploads();
    const result = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--json', '--yes', '--poll-interval', '50'], env });
    const after = await requestsByModel();
    const sent = Object.entries(after).reduce((total, [model, count]) => total + count - (before[model] ?? 0), 0);
    return { code: result.code ?? undefined, sent, uploads: (await countUploads()) - uploadsBefore, stderr: result.stderr };
  }

  beforeAll(async () => {
    ({ project, emulator, env } = await startTwoCharacterProject({ prefix: 'chargen-migration-' }));
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.sent).toBe(4);
    const backends = await readdir(join(project, '.chargen', 'backends'));
    expect(backends).toHaveLength(1);
    backendDirectory = join(project, '.chargen', 'backends', backends[0] as string);
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('pays for nothing again, removes the logs, and a cut last line is skipped', async () => {
    const logged = await downgradeToResultLogs(backendDirectory, { tornLastLine: true });
    expect(logged).toEqual({ analyze: 2, synthesize: 2 });
    // The outputs are gone too: a stage that had to place them again would have to find every answer in the database.
    await rm(join(project, 'final_characters'), { recursive: true, force: true });
    const rerun = await run();
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.sent).toBe(0);
    expect(await exists(join(backendDirectory, 'results'))).toBe(false);
    expect(await exists(join(backendDirectory, 'uploads.jsonl'))).toBe(false);
    const database = new Database(join(backendDirectory, 'state.sqlite'), { readonly: true });
    expect(database.prepare('SELECT name, records FROM imported_files ORDER BY name').all()).toEqual([
      { name: join('results', 'analyze.jsonl'), records: 2 },
      { name: join('results', 'synthesize.jsonl'), records: 2 },
      { name: 'uploads.jsonl', records: 2 },
    ]);
    database.close();
    const report = await describeOutputFolder(join(project, 'final_characters'));
    expect(report.problems).toEqual([]);
    expect(report.bySource.size).toBe(2);
  }, 120_000);

  it('keeps the uploads\' records; files a finished run deleted (storage budget) are uploaded again once, nothing paid twice', async () => {
    // Imported in the test above, whose run, once done, deleted the files (no pending job needed them) and recorded it.
    // A second variant needs new image requests, each pointing at its reference image.
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ ...config, compile: { ...config.compile, variants: 2 } }));
    try {
      const rerun = await run();
      expect(rerun.code, rerun.stderr).toBe(0);
      // Four new image requests (with two variants the template names the count, so both variants' prompts are new);
      // no analysis is asked again: every answer from before the migration is reused.
      expect(rerun.sent).toBe(4);
      // The two reference images, uploaded again (their earlier files were deleted, which the registry knew, so no
      // request pointed at a dead file), and the image job's request file.
      expect(rerun.uploads).toBe(3);
    } finally {
      await writeFile(join(project, 'chargen.config.json'), JSON.stringify(config));
    }
  }, 120_000);

  it('a log left behind after its import (a crash before its removal) is only removed', async () => {
    await mkdir(join(backendDirectory, 'results'), { recursive: true });
    await writeFile(join(backendDirectory, 'results', 'analyze.jsonl'), `${JSON.stringify({ kind: 'chargen-result-cache', version: 1 })}\n`);
    const rerun = await run();
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.sent).toBe(0);
    expect(await exists(join(backendDirectory, 'results'))).toBe(false);
  }, 120_000);

  it('refuses a log it cannot read with one line saying what to do (exit 2), and keeps the log', async () => {
    await downgradeToResultLogs(backendDirectory);
    const path = join(backendDirectory, 'results', 'analyze.jsonl');
    await writeFile(path, `${JSON.stringify({ kind: 'chargen-result-cache', version: 1 })}\n{"not":"an outcome"}\n{"key":"k","status":"failed","reason":"r","retryable":false}\n`);
    const refused = await run();
    expect(refused.code).toBe(2);
    expect(refused.sent).toBe(0);
    const lines = refused.stderr.split('\n').filter((line) => line.includes('analyze.jsonl'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot be moved into the workspace database.*(Restore it|delete it)/);
    expect(await exists(path)).toBe(true);
  }, 120_000);
});
