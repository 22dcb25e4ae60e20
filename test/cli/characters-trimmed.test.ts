// A character with more references than a request takes: its analysis carries analyze.maxReferences of them and its
// image requests the image model's maxReferenceImages, most informative first, and a warning names the rest.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAnalysisCheckpoint } from '../../stages/analyze/analysis-checkpoint.ts';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { createSamplePng } from '../support/sample-images.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('a character of sixteen references', () => {
  let project = '';
  let emulator: EmulatorProcess;
  // Each a little larger than the next, so the order is view-00, view-01, … view-15.
  const views = Array.from({ length: 16 }, (_unused, index) => createSamplePng(`crowd-${index}`, { width: 80 - 2 * index, height: 80 - 2 * index }));

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-trimmed-'));
    await mkdir(join(project, 'input_images', 'crowd'), { recursive: true });
    for (const [index, bytes] of views.entries()) await writeFile(join(project, 'input_images', 'crowd', `view-${String(index).padStart(2, '0')}.png`), bytes);
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ analyze: { maxReferences: 5 }, compile: { model: 'gemini-3-pro-image', imageConfig: { aspectRatio: '3:4', imageSize: '1K' } } }));
    emulator = await startEmulatorProcess({ pendingMilliseconds: 20, runningMilliseconds: 20 });
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('is analysed from its five most informative, drawn from its fourteen, and the warnings name the rest', async () => {
    const env = { ...process.env, GEMINI_API_KEY: 'trimmed-test-key', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl };
    const result = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--json', '--yes', '--poll-interval', '50'], env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('crowd/: 16 references, its analysis takes the 5 most informative (analyze.maxReferences); left out: crowd/view-05.png, crowd/view-06.png');
    expect(result.stderr).toContain('crowd/: 16 references, gemini-3-pro-image takes 14 (its maxReferenceImages); left out: crowd/view-14.png, crowd/view-15.png');
    const record = (await readAnalysisCheckpoint(join(project, '.chargen')))?.records[0];
    expect(record?.references?.map((reference) => reference.path)).toEqual(views.slice(0, 5).map((_bytes, index) => `crowd/view-0${index}.png`));
    expect(record?.otherReferences).toHaveLength(11);
    // The image request carried fourteen, in order: the emulator took them (15 it refuses) and wrote them in the image.
    const image = await readFile(join(project, 'final_characters', 'crowd.jpg'));
    const carried = /chargen-emulator references=([0-9a-f,]*)/.exec(image.toString('latin1'))?.[1]?.split(',');
    expect(carried).toEqual(views.slice(0, 14).map(sha256));
  }, 120_000);
});
