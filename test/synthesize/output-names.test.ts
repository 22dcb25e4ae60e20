import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../emulator/png/encode-png.ts';
import { inspectImageFile } from '../../lib/media/inspect-image-file.ts';
import { chooseImage } from '../../stages/synthesize/core/choose-image.ts';
import { formatBaseName, planOutputNames, toSafeName } from '../../stages/synthesize/core/plan-output-names.ts';
import { createSampleJpeg } from '../support/sample-images.ts';

const blob = (digit: string) => ({ sha256: digit.repeat(64), bytes: 10 });
const image = (digit: string, extra: Record<string, unknown> = {}) => ({ inlineData: { mimeType: 'image/png', blob: blob(digit) }, ...extra });
const response = (parts: unknown[], finishReason = 'STOP') => ({ candidates: [{ content: { parts }, finishReason }] });

describe('output names', () => {
  it('makes any text a safe file name part', () => {
    expect(toSafeName('../../etc/passwd')).toBe('etc-passwd');
    expect(toSafeName('Zoë "the bold" <1>')).toBe('Zoë-the-bold-1');
    expect(toSafeName('..')).toBe('image');
    expect(toSafeName('CON')).toBe('CON-image');
    expect(toSafeName('a\u0000b\nc')).toBe('a-b-c');
    expect(Buffer.byteLength(toSafeName('é'.repeat(500)))).toBeLessThanOrEqual(96);
    expect(formatBaseName({ sourcePath: 'heroes/Mira.final.png', variant: 2 })).toBe('heroes-Mira.final-2');
  });

  it('keeps earlier names, avoids foreign files case-insensitively, and gives every entry a distinct name', () => {
    const entries = [
      { sourcePath: 'a.png', variant: 1 },
      { sourcePath: 'A.jpg', variant: 1 },
      { sourcePath: 'b.png', variant: 1 },
      { sourcePath: 'c.png', variant: 1 },
    ];
    const names = planOutputNames({ entries, assigned: new Map([['c.png#1', 'c-kept']]), existingBaseNames: ['B', 'c-kept'] });
    expect(names.get('c.png#1')).toBe('c-kept');
    expect(names.get('b.png#1')).toMatch(/^b-[0-9a-f]{8}$/);
    const aNames = [names.get('a.png#1'), names.get('A.jpg#1')];
    expect(new Set(aNames.map((name) => name?.toLowerCase())).size).toBe(2);
    expect(planOutputNames({ entries: [...entries].reverse(), assigned: new Map([['c.png#1', 'c-kept']]), existingBaseNames: ['B', 'c-kept'] })).toEqual(names);
  });
});

describe('chooseImage', () => {
  it('takes the last image that is not a thought, and lists the thoughts', () => {
    const choice = chooseImage(response([{ text: 'plan', thought: true }, image('1', { thought: true }), image('2', { thought: true }), image('3'), { text: 'Here she is.' }]));
    expect(choice).toMatchObject({ ok: true, image: { blob: blob('3') }, onlyThoughts: false, textParts: ['Here she is.'] });
    expect(choice.ok && choice.thoughtImages.map((part) => part.blob.sha256[0])).toEqual(['1', '2']);
  });

  it('falls back to the last thought image when nothing else came', () => {
    expect(chooseImage(response([image('1', { thought: true }), image('2', { thought: true })]))).toMatchObject({ ok: true, onlyThoughts: true, image: { blob: blob('2') } });
  });

  it('says when there is no image at all, with the text the model gave instead', () => {
    expect(chooseImage(response([{ text: 'I cannot draw that.' }], 'STOP'))).toMatchObject({ ok: false, retryable: true, reason: expect.stringContaining('I cannot draw that.') });
    expect(chooseImage(response([{ inlineData: { mimeType: 'image/png', blob: { sha256: '../x', bytes: 1 } } }]))).toMatchObject({ ok: false });
  });
});

describe('inspectImageFile', () => {
  it('reads format and size from the header, and catches a cut image', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'chargen-inspect-'));
    try {
      const png = encodePng({ width: 40, height: 30, seed: 'x' });
      await writeFile(join(folder, 'a'), png);
      await writeFile(join(folder, 'cut'), png.subarray(0, png.length - 20));
      await writeFile(join(folder, 'b'), createSampleJpeg({ width: 33, height: 21 }));
      await writeFile(join(folder, 'text'), 'hello');
      expect(await inspectImageFile(join(folder, 'a'))).toMatchObject({ ok: true, format: 'png', extension: 'png', width: 40, height: 30 });
      expect(await inspectImageFile(join(folder, 'cut'))).toMatchObject({ ok: false, reason: expect.stringContaining('cut short') });
      expect(await inspectImageFile(join(folder, 'b'))).toMatchObject({ ok: true, format: 'jpeg', extension: 'jpg', width: 33, height: 21 });
      expect(await inspectImageFile(join(folder, 'text'))).toMatchObject({ ok: false, reason: expect.stringContaining('not a PNG') });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
