import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readResultLines, type ResultLineReader } from '../../lib/gemini/read-result-lines.ts';
import { createSynthesizeFixture, type SynthesizeFixture } from '../support/synthesize-fixture.ts';

let fixture: SynthesizeFixture;
beforeEach(async () => {
  fixture = await createSynthesizeFixture();
});
afterEach(async () => fixture.close());

describe('a result download cut mid-way', () => {
  it('resumes with a Range from where it was cut, and every image is read and written once', async () => {
    const { prompts, records } = await fixture.createPrompts({ count: 2, settings: { variants: 2 } });
    const response = await fetch(`${fixture.emulator.baseUrl}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ cutDownloads: 1 }) });
    expect(response.status).toBe(200);
    const linesRead = new Map<string, number>();
    const countingReader: ResultLineReader = async function* (path) {
      for await (const line of readResultLines(path)) {
        if (line.kind !== 'unreadable') linesRead.set(line.key, (linesRead.get(line.key) ?? 0) + 1);
        yield line;
      }
    };
    const result = await fixture.synthesize({ prompts, records, createResultReader: () => countingReader });
    expect(result.failures).toEqual([]);
    expect(result.outputs).toHaveLength(4);
    // One download cut, one that went on from the cut: the file was read once, whole.
    const stats = await fixture.emulator.stats();
    expect(stats['downloads']).toBe(2);
    expect(stats['requestsByModel']).toEqual({ 'gemini-3-pro-image': 4 });
    const resumed = fixture.logger.lines.map((line) => line.text).filter((text) => /download of files\/batch-\S+ resumed at byte [1-9]\d* of \d+/.test(text));
    expect(resumed).toHaveLength(1);
    expect([...linesRead.values()]).toEqual([1, 1, 1, 1]);
    expect((await readdir(fixture.outputDirectory)).filter((name) => name.endsWith('.jpg')).sort()).toEqual(['hero-00000-2.jpg', 'hero-00000.jpg', 'hero-00001-2.jpg', 'hero-00001.jpg']);
  });
});
