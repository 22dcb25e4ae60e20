// The smoke test: a full `chargen run` of the sample images answered by the committed cassette alone. Nothing here
// may import the emulator's answering code (only its cassette replay): every answer comes from test/fixtures/cassette/ (re-record it with
// `npm run fixtures:record`), so this proves chargen against recorded traffic rather than against our own emulator.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveReplayServer, type RunningReplayServer } from '../../emulator/cassette/serve-replay-server.ts';
import { imageSidecarSchema } from '../../stages/synthesize/image-sidecar.ts';
import { inspectImage } from '../../lib/media/inspect-image.ts';
import { runNodeProcess, type ProcessResult } from '../support/chargen-process.ts';
import {
  buildChargenEnvironment,
  buildRunArguments,
  createSmokeProject,
  fixtureCassetteDirectory,
  listSampleImages,
  recordedImageSize,
  type RunSummary,
} from '../fixtures/smoke-project.ts';

// The replay answers polls from the recording in order and then repeats the last one, so polling fast only walks
// through the recorded job states sooner.
const pollIntervalMilliseconds = 5;

describe('chargen run replayed from the recorded cassette', () => {
  let project: string;
  let replay: RunningReplayServer;
  let result: ProcessResult;
  let summary: RunSummary | undefined;

  beforeAll(async () => {
    replay = await serveReplayServer({ cassetteDirectory: fixtureCassetteDirectory, port: 0 });
    project = await createSmokeProject();
    result = await runNodeProcess({
      cwd: project,
      args: buildRunArguments({ pollIntervalMilliseconds }),
      env: buildChargenEnvironment({ baseUrl: replay.baseUrl }),
    });
    summary = result.stdout.trim() === '' ? undefined : (JSON.parse(result.stdout) as RunSummary);
  }, 120_000);

  afterAll(async () => {
    await replay?.close();
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('asks only what the cassette holds', () => {
    const misses = replay.misses();
    expect(misses, `requests the cassette has no answer for:\n${misses.map((miss) => miss.message).join('\n')}`).toEqual([]);
  });

  it('exits 0 with all three stages done', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(summary?.exitCode).toBe(0);
    expect(summary?.deadLetter).toEqual([]);
    expect(summary?.stages).toMatchObject({ analyze: { status: 'done' }, compile: { status: 'done' }, synthesize: { status: 'done' } });
  });

  it('writes one JPEG of the recorded size, its sidecar and its thought signature per sample image', async () => {
    const samples = await listSampleImages();
    expect(summary?.outputs.map((output) => output.source).sort()).toEqual(samples.map((name) => `input_images/${name}`));
    for (const output of summary?.outputs ?? []) {
      const bytes = await readFile(join(project, output.image));
      expect(inspectImage(bytes), output.image).toMatchObject({ ok: true, format: 'jpeg', ...recordedImageSize });
      const sidecar = imageSidecarSchema.parse(JSON.parse(await readFile(join(project, output.sidecar), 'utf8')));
      expect(sidecar.image, output.sidecar).toMatchObject({ mimeType: 'image/jpeg', bytes: bytes.length, ...recordedImageSize });
      expect(sidecar.model).toBe('gemini-3-pro-image');
      expect(sidecar.thoughtSignature?.file, output.sidecar).toBeDefined();
    }
  });
});
