import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargenBinary, runNodeProcess } from '../support/chargen-process.ts';
import { recordedImageResultLines, recordedTextResultLines, toResultFile } from './recorded-scenarios.ts';

/**
 * `chargen extract` (chooseImage and writeImageOutput behind it), run as a user runs it, on a results file made of
 * recorded answers: which image files, signature files and failures it makes of each.
 */

interface Summary {
  exitCode: number;
  written: { key: string; line: number; image: string; sidecar: string }[];
  failures: { line?: number; key?: string; reason: string }[];
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let folder = '';
let lines: Record<string, unknown>[] = [];
let result: { code: number | null; stdout: string; stderr: string; summary: Summary };

function recordedPart(key: string, index: number): Record<string, unknown> {
  const response = lines.find((line) => line['key'] === key)?.['response'] as { candidates: { content: { parts: Record<string, unknown>[] } }[] };
  return response.candidates[0]!.content.parts[index]!;
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'chargen-extract-recorded-'));
  lines = [...recordedImageResultLines({ recordedSizeSignature: true }), ...recordedTextResultLines()];
  await writeFile(join(folder, 'results.jsonl'), toResultFile(lines));
  const run = await runNodeProcess({ cwd: folder, args: [chargenBinary, 'extract', 'results.jsonl', '--out', 'out', '--json'] });
  result = { ...run, summary: JSON.parse(run.stdout) as Summary };
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('chargen extract on recorded answers', () => {
  it('writes an image for each recorded image answer and names every other line with its reason (exit 3)', () => {
    expect(result.code, result.stderr).toBe(3);
    expect(result.summary.written.map((entry) => [entry.key, entry.line])).toEqual([['otter', 1], ['axolotl', 2], ['flash', 3], ['pip', 4]]);
    expect(result.summary.failures).toEqual([
      // A JSON text answer signed in a part of its own: no image in it.
      { line: 5, key: '00_COM.png', reason: expect.stringMatching(/^no image in the response \(finish reason STOP, text: "\{\n {2}"caption"/) },
      { line: 6, key: 'request_1', reason: 'no image in the response (finish reason STOP, text: "AI learns patterns from data to make decisions or predictions.")' },
      { line: 7, key: 'request_2', reason: expect.stringMatching(/^no image in the response \(finish reason STOP, text: "Quantum computers/) },
      { line: 8, key: 'request_3', reason: 'error 13 INTERNAL: An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting' },
      { line: 9, key: 'no-image', reason: 'finish reason NO_IMAGE' },
      { line: 10, key: 'prompt-blocked', reason: 'prompt blocked: PROHIBITED_CONTENT' },
    ]);
  });

  it('keeps each image as the bytes it was sent, as a .jpg for Gemini 3 answers and a .png for gemini-2.5-flash-image', async () => {
    expect((await readdir(join(folder, 'out'))).sort()).toEqual([
      'axolotl.jpg', 'axolotl.json', 'axolotl.thought-signature', 'flash.jpg', 'flash.json', 'flash.thought-signature',
      'otter.jpg', 'otter.json', 'otter.thought-signature', 'pip.json', 'pip.png',
    ]);
    for (const [key, index, extension] of [['otter', 0, 'jpg'], ['axolotl', 1, 'jpg'], ['flash', 0, 'jpg'], ['pip', 1, 'png']] as const) {
      const sent = Buffer.from((recordedPart(key, index)['inlineData'] as { data: string }).data, 'base64');
      expect(sha256(await readFile(join(folder, 'out', `${key}.${extension}`)))).toBe(sha256(sent));
    }
    const jpeg = await readFile(join(folder, 'out', 'otter.jpg'));
    // JFIF APP0, then the APP11 segment of the C2PA manifest ('JP'), as the recorded gemini-3-pro-image JPEG begins.
    expect(jpeg.subarray(0, 22).toString('hex')).toBe('ffd8ffe000104a46494600010101012c012c0000ffeb');
    expect(jpeg.subarray(24, 26).toString('latin1')).toBe('JP');
  });

  it('writes each image part\'s signature as the base64 text it came as, the 2.9 MB one too; none for a PNG without one', async () => {
    for (const [key, index] of [['otter', 0], ['axolotl', 1], ['flash', 0]] as const) {
      const text = String(recordedPart(key, index)['thoughtSignature']);
      const written = await readFile(join(folder, 'out', `${key}.thought-signature`), 'latin1');
      expect(written.length).toBe(text.length);
      expect(written === text).toBe(true);
      const sidecar = JSON.parse(await readFile(join(folder, 'out', `${key}.json`), 'utf8')) as Record<string, unknown>;
      expect(sidecar['thoughtSignature']).toMatchObject({ file: `${key}.thought-signature`, bytes: text.length });
    }
    expect(String(recordedPart('otter', 0)['thoughtSignature']).length).toBe(2_909_844);
    const pip = JSON.parse(await readFile(join(folder, 'out', 'pip.json'), 'utf8')) as Record<string, unknown>;
    expect(pip['thoughtSignature']).toBeUndefined();
  });

  it('puts the recorded text, finish reason, model and usage (serviceTier included) in the sidecar', async () => {
    const axolotl = JSON.parse(await readFile(join(folder, 'out', 'axolotl.json'), 'utf8')) as Record<string, unknown>;
    expect(axolotl).toMatchObject({
      key: 'axolotl',
      model: 'gemini-3-pro-image-preview',
      finishReason: 'STOP',
      textParts: [recordedPart('axolotl', 0)['text']],
      image: { mimeType: 'image/jpeg', width: 64, height: 64 },
      thoughtImages: [],
    });
    const otter = JSON.parse(await readFile(join(folder, 'out', 'otter.json'), 'utf8')) as Record<string, unknown>;
    const recordedUsage = (lines[0]?.['response'] as Record<string, unknown>)['usageMetadata'];
    expect(otter['usage']).toEqual(recordedUsage);
    expect(otter['textParts']).toEqual([]);
  });
});
