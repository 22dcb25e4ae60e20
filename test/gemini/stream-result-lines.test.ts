import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readResultLines, type ResultLine } from '../../lib/gemini/read-result-lines.ts';
import { createStreamingResultReader, type StreamingReaderOptions } from '../../lib/gemini/stream-result-lines.ts';
import { createSeededRandom } from '../support/gemini-fixture.ts';

let directory = '';
let blobDirectory = '';
let fileCount = 0;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'chargen-stream-lines-'));
  // Nested and missing: the reader creates it.
  blobDirectory = join(directory, 'blobs', 'images');
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeResultFile(content: string | Buffer): Promise<string> {
  fileCount += 1;
  const path = join(directory, `results-${fileCount}.jsonl`);
  await writeFile(path, content);
  return path;
}

async function collectLines(lines: AsyncIterable<ResultLine>): Promise<ResultLine[]> {
  const collected: ResultLine[] = [];
  for await (const line of lines) collected.push(line);
  return collected;
}

async function readStreaming(options: { content: string | Buffer } & Omit<StreamingReaderOptions, 'blobDirectory'>): Promise<ResultLine[]> {
  const { content, ...readerOptions } = options;
  const reader = createStreamingResultReader({ blobDirectory, ...readerOptions });
  return collectLines(reader(await writeResultFile(content)));
}

async function listBlobDirectory(): Promise<string[]> {
  try {
    return (await readdir(blobDirectory)).sort();
  } catch {
    return [];
  }
}

function hashBytes(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function createImageLine(options: { key: string; data: string; inlineName?: string; partIndex?: number }): string {
  const inlineName = options.inlineName ?? 'inlineData';
  const texts = Array.from({ length: options.partIndex ?? 1 }, (_unused, index) => `{"text":"part ${index}"}`);
  return `{"key":"${options.key}","response":{"candidates":[{"content":{"role":"model","parts":[${[...texts, `{"${inlineName}":{"mimeType":"image/png","data":"${options.data}"}}`].join(',')}]},"finishReason":"STOP"}]}}`;
}

/** The parts of a response line, for reading what the reader put in place of the data. */
function readParts(line: ResultLine | undefined): Record<string, unknown>[] {
  expect(line?.kind).toBe('response');
  const response = (line as Extract<ResultLine, { kind: 'response' }>).response;
  const candidates = response['candidates'] as { content: { parts: Record<string, unknown>[] } }[];
  return candidates[0]!.content.parts;
}

function readBlobReference(part: Record<string, unknown> | undefined, name = 'inlineData'): { sha256: string; bytes: number } {
  const inline = part?.[name] as Record<string, unknown>;
  expect(inline).not.toHaveProperty('data');
  return inline['blob'] as { sha256: string; bytes: number };
}

async function expectBlob(reference: { sha256: string; bytes: number }, bytes: Buffer): Promise<void> {
  expect(reference).toEqual({ sha256: hashBytes(bytes), bytes: bytes.length });
  expect((await readFile(join(blobDirectory, reference.sha256))).equals(bytes)).toBe(true);
}

const chunkSizes = Array.from({ length: 17 }, (_unused, index) => index + 1);

describe('createStreamingResultReader: images', () => {
  it('decodes an image split at every chunk size from 1 to 17 into a blob named by its sha256', async () => {
    // Three lengths: base64 with two, one and no '=' of padding.
    const images = [randomBytes(100), randomBytes(101), randomBytes(102)];
    const content = images.map((image, index) => createImageLine({ key: `k${index}`, data: image.toString('base64'), partIndex: 2 })).join('\n');
    for (const chunkBytes of chunkSizes) {
      await rm(blobDirectory, { recursive: true, force: true });
      const lines = await readStreaming({ content, chunkBytes });
      expect(lines.map((line) => line.kind)).toEqual(['response', 'response', 'response']);
      for (const [index, image] of images.entries()) {
        const parts = readParts(lines[index]);
        expect(parts[0]).toEqual({ text: 'part 0' });
        expect((parts[2]?.['inlineData'] as Record<string, unknown>)['mimeType']).toBe('image/png');
        await expectBlob(readBlobReference(parts[2]), image);
      }
      expect(await listBlobDirectory()).toEqual(images.map(hashBytes).sort());
    }
  });

  it('reads JSON escapes inside the base64 (\\/, \\u002F, \\u0041, \\u003D) at every chunk size', async () => {
    // 301 bytes: the base64 ends in '==', so an escaped '=' is read as well.
    let original = randomBytes(301);
    while (!/\/.*A|A.*\//.test(original.toString('base64'))) original = randomBytes(301);
    const data = original.toString('base64');
    const escaped = data
      .replace(/\//g, (_slash, offset: number) => (offset % 2 === 0 ? '\\/' : '\\u002F'))
      .replace('A', '\\u0041')
      .replace(/=$/, '\\u003d');
    expect(escaped).toMatch(/\\u003d$/);
    for (const chunkBytes of chunkSizes) {
      await rm(blobDirectory, { recursive: true, force: true });
      const lines = await readStreaming({ content: createImageLine({ key: 'k', data: escaped }), chunkBytes });
      await expectBlob(readBlobReference(readParts(lines[0])[1]), original);
    }
  });

  it('accepts the url-safe alphabet without padding', async () => {
    let image = randomBytes(200);
    while (!/[-_]/.test(image.toString('base64url'))) image = randomBytes(200);
    const lines = await readStreaming({ content: createImageLine({ key: 'k', data: image.toString('base64url') }), chunkBytes: 7 });
    await expectBlob(readBlobReference(readParts(lines[0])[1]), image);
  });

  it('gives each inlineData part of a line its own blob (thought images, then the final one), in snake case too', async () => {
    const thoughts = [randomBytes(40), randomBytes(50)];
    const final = randomBytes(60);
    const line = JSON.stringify({
      key: 'k',
      response: {
        candidates: [
          {
            content: {
              parts: [
                { text: 'thinking', thought: true },
                { inlineData: { mimeType: 'image/png', data: thoughts[0]!.toString('base64') }, thought: true },
                { inline_data: { mime_type: 'image/png', data: thoughts[1]!.toString('base64') }, thought: true },
                { text: 'done' },
                { inlineData: { mimeType: 'image/png', data: final.toString('base64') } },
              ],
            },
          },
        ],
      },
    });
    const lines = await readStreaming({ content: line, chunkBytes: 5 });
    const parts = readParts(lines[0]);
    await expectBlob(readBlobReference(parts[1]), thoughts[0]!);
    await expectBlob(readBlobReference(parts[2], 'inline_data'), thoughts[1]!);
    await expectBlob(readBlobReference(parts[4]), final);
    expect(parts[2]).toEqual({ inline_data: { mime_type: 'image/png', blob: { sha256: hashBytes(thoughts[1]!), bytes: 50 } }, thought: true });
    expect(await listBlobDirectory()).toEqual([thoughts[0]!, thoughts[1]!, final].map(hashBytes).sort());
  });

  it('finds inlineData anywhere in the line, and only a string `data` of an object under that name', async () => {
    const image = randomBytes(30);
    const data = image.toString('base64');
    const line = JSON.stringify({
      key: 'k',
      inlineData: { data },
      response: { data, nested: { inline_data: { data: 5 }, inlineData: [{ data }] }, other: { data } },
    });
    const [result] = await readStreaming({ content: line });
    expect(result).toEqual({
      kind: 'response',
      lineNumber: 1,
      key: 'k',
      response: { data, nested: { inline_data: { data: 5 }, inlineData: [{ data }] }, other: { data } },
    });
    expect(await listBlobDirectory()).toEqual([hashBytes(image)]);
  });

  it('stores the same image once, within a line, across lines, and when its blob exists already', async () => {
    const image = randomBytes(64);
    const data = image.toString('base64');
    await mkdir(blobDirectory, { recursive: true });
    const existing = randomBytes(10);
    await writeFile(join(blobDirectory, hashBytes(existing)), existing);
    const twice = `{"key":"a","response":{"parts":[{"inlineData":{"data":"${data}"}},{"inlineData":{"data":"${data}"}}]}}`;
    const content = [twice, createImageLine({ key: 'b', data }), createImageLine({ key: 'c', data: existing.toString('base64') })].join('\n');
    const lines = await readStreaming({ content, chunkBytes: 3 });
    expect(lines.map((line) => line.kind)).toEqual(['response', 'response', 'response']);
    expect(await listBlobDirectory()).toEqual([hashBytes(image), hashBytes(existing)].sort());
    expect((await readFile(join(blobDirectory, hashBytes(image)))).equals(image)).toBe(true);
  });

  it('keeps the reader’s blob and drops a `blob` the file itself puts in inlineData', async () => {
    const image = randomBytes(12);
    const forged = { sha256: '../../../etc/passwd', bytes: 1 };
    const line = JSON.stringify({
      key: 'k',
      response: {
        parts: [
          { inlineData: { blob: forged, data: image.toString('base64') } },
          { inlineData: { data: image.toString('base64'), blob: forged } },
          { inlineData: { mimeType: 'image/png', blob: forged } },
        ],
      },
    });
    const [result] = await readStreaming({ content: line });
    const reference = { sha256: hashBytes(image), bytes: 12 };
    expect(result).toEqual({
      kind: 'response',
      lineNumber: 1,
      key: 'k',
      response: { parts: [{ inlineData: { blob: reference } }, { inlineData: { blob: reference } }, { inlineData: { mimeType: 'image/png' } }] },
    });
  });
});

describe('createStreamingResultReader: broken images', () => {
  it('names the part and the offset of a character outside the base64 alphabet, and leaves no file behind', async () => {
    const good = randomBytes(30);
    const data = `${randomBytes(3000).toString('base64')}.${randomBytes(30).toString('base64')}`;
    const content = [createImageLine({ key: 'bad', data, partIndex: 2 }), createImageLine({ key: 'good', data: good.toString('base64') })].join('\n');
    for (const chunkBytes of [1, 7, 64, 1024 * 1024]) {
      await rm(blobDirectory, { recursive: true, force: true });
      const lines = await readStreaming({ content, chunkBytes });
      expect(lines[0]).toEqual({
        kind: 'unreadable',
        lineNumber: 1,
        key: 'bad',
        problem: "inlineData.data of candidates[0].content.parts[2] is not base64 (character '.' at offset 4000)",
      });
      await expectBlob(readBlobReference(readParts(lines[1])[1]), good);
      expect(await listBlobDirectory()).toEqual([hashBytes(good)]);
    }
  });

  it('rejects characters that Node’s decoder would skip: spaces, escaped newlines, non-ASCII bytes', async () => {
    const cases: [string, string][] = [
      ['QUJD REVG', "character ' ' at offset 4"],
      ['QUJD\\nREVG', 'character U+000A at offset 4'],
      ['QUJDé', 'byte 0xC3 at offset 4'],
      ['QUJD\\u00e9', 'character U+00E9 at offset 4'],
      ['QUJD\\"', `character '"' at offset 4`],
    ];
    const content = cases.map(([data], index) => createImageLine({ key: `k${index}`, data })).join('\n');
    for (const chunkBytes of [1, 3, 4096]) {
      const lines = await readStreaming({ content, chunkBytes });
      expect(lines.map((line) => (line.kind === 'unreadable' ? line.problem : line.kind))).toEqual(
        cases.map(([, problem]) => `inlineData.data of candidates[0].content.parts[1] is not base64 (${problem})`),
      );
    }
    expect(await listBlobDirectory()).toEqual([]);
  });

  it('allows "=" padding only at the very end, in the right amount', async () => {
    const cases: [string, string | undefined][] = [
      ['QQ==', undefined],
      ['QUI=', undefined],
      ['QUI', undefined],
      ['', undefined],
      ['QQ=', "misplaced '=' padding at offset 2"],
      ['QUJD=', "misplaced '=' padding at offset 4"],
      ['QUJDRA===', "misplaced '=' padding at offset 6"],
      ['QQ==QQ==', "character 'Q' at offset 4 follows the '=' padding"],
      ['QUJDR', 'its 5 characters leave a lone character at the end'],
    ];
    const content = cases.map(([data], index) => createImageLine({ key: `k${index}`, data })).join('\n');
    for (const chunkBytes of [1, 2, 5, 4096]) {
      await rm(blobDirectory, { recursive: true, force: true });
      const lines = await readStreaming({ content, chunkBytes });
      expect(lines.map((line) => (line.kind === 'unreadable' ? line.problem : line.kind))).toEqual(
        cases.map(([, problem]) => (problem === undefined ? 'response' : `inlineData.data of candidates[0].content.parts[1] is not base64 (${problem})`)),
      );
      expect(await listBlobDirectory()).toEqual([Buffer.from('A'), Buffer.from('AB'), Buffer.alloc(0)].map(hashBytes).sort());
    }
  });

  it('reports a line cut inside its image by a raw newline, and reads the next line from right after it', async () => {
    const image = randomBytes(2000);
    const cut = createImageLine({ key: 'cut', data: image.toString('base64') }).slice(0, 1500);
    const next = createImageLine({ key: 'next', data: image.toString('base64') });
    const content = `${cut}\n${next}\n${cut}`;
    for (const chunkBytes of [1, 13, 1024 * 1024]) {
      await rm(blobDirectory, { recursive: true, force: true });
      const lines = await readStreaming({ content, chunkBytes });
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatchObject({ kind: 'unreadable', lineNumber: 1, key: 'cut' });
      expect((lines[0] as { problem: string }).problem).toMatch(/^inlineData\.data of candidates\[0\]\.content\.parts\[1\] is not base64 \(a raw line break: the line was cut at offset \d+\)$/);
      await expectBlob(readBlobReference(readParts(lines[1])[1]), image);
      expect(lines[2]).toEqual({ kind: 'unreadable', lineNumber: 3, key: 'cut', problem: 'the file ends inside this line (truncated)' });
      expect(await listBlobDirectory()).toEqual([hashBytes(image)]);
    }
  });

  it('deletes the blobs of a line that breaks after its images were written', async () => {
    const image = randomBytes(5000);
    const broken = `${createImageLine({ key: 'broken', data: image.toString('base64') }).slice(0, -2)},}`;
    const lines = await readStreaming({ content: `${broken}\n{"key":"after","response":{}}\n`, chunkBytes: 100 });
    expect(lines[0]).toMatchObject({ kind: 'unreadable', lineNumber: 1, key: 'broken' });
    expect((lines[0] as { problem: string }).problem).toMatch(/^not valid JSON: expected a property name in double quotes, found '}' \(at byte \d+ of the line\)$/);
    expect(lines[1]).toEqual({ kind: 'response', key: 'after', response: {}, lineNumber: 2 });
    expect(await listBlobDirectory()).toEqual([]);
  });

  it('deletes the temporary blob of a file that ends inside an image', async () => {
    const image = randomBytes(5000);
    const truncated = createImageLine({ key: 'last', data: image.toString('base64') }).slice(0, 3000);
    const lines = await readStreaming({ content: `{"key":"first","response":{}}\r\n${truncated}`, chunkBytes: 256 });
    expect(lines).toEqual([
      { kind: 'response', key: 'first', response: {}, lineNumber: 1 },
      { kind: 'unreadable', lineNumber: 2, key: 'last', problem: 'the file ends inside this line (truncated)' },
    ]);
    expect(await listBlobDirectory()).toEqual([]);
  });
});

describe('createStreamingResultReader: lines', () => {
  it('reads LF and CRLF lines, skips blank ones, takes a last line without newline, and ignores a BOM split anywhere', async () => {
    const content = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('{"key":"a","response":{"n":1}}\r\n\r\n   \n\t\r\n{"key":"b","response":{"n":2}}\n\n{"key":"c","response":{"n":3}}'),
    ]);
    for (const chunkBytes of [1, 2, 3, 4, 5, 1024]) {
      const lines = await readStreaming({ content, chunkBytes });
      expect(lines).toEqual([
        { kind: 'response', key: 'a', response: { n: 1 }, lineNumber: 1 },
        { kind: 'response', key: 'b', response: { n: 2 }, lineNumber: 5 },
        { kind: 'response', key: 'c', response: { n: 3 }, lineNumber: 7 },
      ]);
    }
    const afterThree = await readStreaming({ content: '\n\n{"key":"x",\n{"key":"d","response":{}}' });
    expect(afterThree[0]).toEqual({ kind: 'unreadable', lineNumber: 3, key: 'x', problem: "not valid JSON: expected a property name in double quotes, found the end of the line (at byte 11 of the line)" });
    expect(afterThree[1]).toEqual({ kind: 'response', key: 'd', response: {}, lineNumber: 4 });
  });

  it('says which line is truncated at the end of the file, with its key once read', async () => {
    for (const [content, key] of [
      ['{"key":"k","response":{"text":"unfinish', 'k'],
      ['{"response":{"text":"x"},"key":"k"', 'k'],
      ['{"key":"k', undefined],
      ['{"key":"k","response":{"n":12', 'k'],
      ['{"key":"k","response":{"n":tr', 'k'],
      ['{"key":"k","response":{"t":"\\u00', 'k'],
    ] as const) {
      const lines = await readStreaming({ content: `{"key":"first","response":{}}\n${content}`, chunkBytes: 4 });
      const expected: ResultLine = { kind: 'unreadable', lineNumber: 2, problem: 'the file ends inside this line (truncated)' };
      if (key !== undefined) expected.key = key;
      expect(lines[1]).toEqual(expected);
    }
    // A top-level value that is complete at the end of the file is not truncated.
    expect(await readStreaming({ content: '{"key":"k","response":{}}   ' })).toEqual([{ kind: 'response', key: 'k', response: {}, lineNumber: 1 }]);
    expect(await readStreaming({ content: '12' })).toEqual([{ kind: 'unreadable', lineNumber: 1, problem: 'no string "key"' }]);
  });

  it('reports syntax errors and binary garbage with the line number and what was expected, then goes on', async () => {
    let garbage = randomBytes(3000);
    garbage = Buffer.from(garbage.map((byte) => (byte === 0x0a ? 0x00 : byte)));
    garbage[0] = 0x00;
    const content = Buffer.concat([
      Buffer.from('{"key":"a","response":{"x":1,}}\n'),
      garbage,
      Buffer.from('\n{"key":"b" "response":{}}\n{"key":"c","response":{"t":"tab\there"}}\n{"key":"d","response":{"n":01}}\n{"key":"e","response":{"n":-}}\n'),
      Buffer.from('{"key":"f","response":{"s":"\\x"}}\n{"key":"g","response":{"v":nul}}\n{"key":"h","response":{}} {}\n{"key":"ok","response":{"fine":true}}\n'),
    ]);
    for (const chunkBytes of [1, 6, 1024 * 1024]) {
      const lines = await readStreaming({ content, chunkBytes });
      expect(lines).toEqual([
        { kind: 'unreadable', lineNumber: 1, key: 'a', problem: "not valid JSON: expected a property name in double quotes, found '}' (at byte 29 of the line)" },
        { kind: 'unreadable', lineNumber: 2, problem: 'not valid JSON: expected a JSON value, found byte 0x00 (at byte 0 of the line)' },
        { kind: 'unreadable', lineNumber: 3, key: 'b', problem: "not valid JSON: expected ',' or '}', found '\"' (at byte 11 of the line)" },
        { kind: 'unreadable', lineNumber: 4, key: 'c', problem: 'not valid JSON: control character byte 0x09 inside a string (at byte 31 of the line)' },
        { kind: 'unreadable', lineNumber: 5, key: 'd', problem: "not valid JSON: expected ',' or '}', found '1' (at byte 28 of the line)" },
        { kind: 'unreadable', lineNumber: 6, key: 'e', problem: "not valid JSON: expected a digit, found '}' (at byte 28 of the line)" },
        { kind: 'unreadable', lineNumber: 7, key: 'f', problem: "not valid JSON: expected an escape letter after \\, found 'x' (at byte 29 of the line)" },
        { kind: 'unreadable', lineNumber: 8, key: 'g', problem: "not valid JSON: expected 'null', found '}' (at byte 30 of the line)" },
        { kind: 'unreadable', lineNumber: 9, key: 'h', problem: "not valid JSON: expected the end of the line after the JSON value, found '{' (at byte 26 of the line)" },
        { kind: 'response', key: 'ok', response: { fine: true }, lineNumber: 10 },
      ]);
    }
  });

  it('accepts nesting 64 deep and reports deeper nesting', async () => {
    const nested = (arrays: number): string => `{"key":"k","response":{"a":${'['.repeat(arrays)}${']'.repeat(arrays)}}}`;
    const lines = await readStreaming({ content: `${nested(62)}\n${nested(63)}\n${nested(5000)}\n{"key":"after","response":{}}`, chunkBytes: 9 });
    expect(lines[0]?.kind).toBe('response');
    expect(lines[1]).toEqual({ kind: 'unreadable', lineNumber: 2, key: 'k', problem: 'the JSON is nested deeper than 64 levels (at byte 89 of the line)' });
    expect(lines[2]).toMatchObject({ kind: 'unreadable', lineNumber: 3, key: 'k' });
    expect(lines[3]).toEqual({ kind: 'response', key: 'after', response: {}, lineNumber: 4 });
  });

  it('judges keys, errors and responses as readResultLines does', async () => {
    const content = [
      '[1,2]',
      '"text"',
      'null',
      '{"response":{}}',
      '{"key":"","response":{}}',
      '{"key":5,"response":{}}',
      '{"key":"e1","error":{"code":8,"message":"quota"}}',
      '{"key":"e2","status":{"code":13}}',
      '{"key":"e3","error":null,"status":null,"response":{"ok":1}}',
      '{"key":"e4","error":"plain","response":{"ok":1}}',
      '{"key":"n1"}',
      '{"key":"n2","response":[1]}',
      '{"key":"n3","response":"text"}',
      '{"key":"r","response":{"candidates":[{"content":{"parts":[{"text":"é€😀"}]}}]}}',
    ].join('\n');
    const path = await writeResultFile(content);
    const expected = await collectLines(readResultLines(path));
    for (const chunkBytes of [1, 4, 1024]) {
      expect(await collectLines(createStreamingResultReader({ blobDirectory, chunkBytes })(path))).toEqual(expected);
    }
    expect(expected.map((line) => line.kind)).toEqual([
      'unreadable', 'unreadable', 'unreadable', 'unreadable', 'unreadable', 'unreadable',
      'error', 'error', 'response', 'error', 'unreadable', 'unreadable', 'unreadable', 'response',
    ]);
  });
});

describe('createStreamingResultReader: hostile input', () => {
  it('never lets __proto__, constructor or prototype keys reach a prototype, and keeps them as JSON.parse does', async () => {
    const line = '{"key":"k","__proto__":{"polluted":1},"response":{"__proto__":{"polluted":2},"constructor":{"prototype":{"polluted":3}},"prototype":{"polluted":4},"list":[{"__proto__":null}],"inlineData":{"__proto__":{"polluted":5},"data":"QQ=="}}}';
    for (const chunkBytes of [1, 5, 1024]) {
      const [result] = await readStreaming({ content: line, chunkBytes });
      const response = (result as Extract<ResultLine, { kind: 'response' }>).response;
      const expected = (JSON.parse(line) as { response: Record<string, unknown> }).response;
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.getPrototypeOf(response)).toBe(Object.prototype);
      expect(Object.hasOwn(response, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyNames(response)).toEqual(Object.getOwnPropertyNames(expected));
      expect(JSON.stringify(response['__proto__'])).toBe('{"polluted":2}');
      expect(JSON.stringify(response['constructor'])).toBe('{"prototype":{"polluted":3}}');
      const list = response['list'] as Record<string, unknown>[];
      expect(Object.getPrototypeOf(list[0])).toBe(Object.prototype);
      expect(Object.hasOwn(list[0]!, '__proto__')).toBe(true);
      const inline = response['inlineData'] as Record<string, unknown>;
      expect(Object.getPrototypeOf(inline)).toBe(Object.prototype);
      expect(inline['blob']).toEqual({ sha256: hashBytes(Buffer.from('A')), bytes: 1 });
    }
  });

  it('lets the last of duplicate properties win, as JSON.parse does', async () => {
    const lines = await readStreaming({
      content: '{"key":"first","key":"second","response":{"a":1,"b":2,"a":{"x":1},"a":3}}\n{"key":"k","key":5,"response":{}}',
      chunkBytes: 3,
    });
    expect(lines[0]).toEqual({ kind: 'response', key: 'second', response: { a: 3, b: 2 }, lineNumber: 1 });
    expect(JSON.stringify((lines[0] as Extract<ResultLine, { kind: 'response' }>).response)).toBe('{"a":3,"b":2}');
    expect(lines[1]).toEqual({ kind: 'unreadable', lineNumber: 2, problem: 'no string "key"' });
  });

  it('gives up on a line whose text outside images passes maxLineTextBytes, but does not count images', async () => {
    const maxLineTextBytes = 64 * 1024;
    const image = randomBytes(3 * 1024 * 1024);
    const content = [
      `{"key":"big","response":{"text":"${'a'.repeat(4 * 1024 * 1024)}"}}`,
      `{"key":"many","response":{"n":[${Array.from({ length: 40_000 }, () => '1').join(',')}]}}`,
      createImageLine({ key: 'image', data: image.toString('base64') }),
      `{"key":"near","response":{"text":"${'b'.repeat(maxLineTextBytes - 100)}"}}`,
    ].join('\n');
    for (const chunkBytes of [4096, 1024 * 1024]) {
      await rm(blobDirectory, { recursive: true, force: true });
      const lines = await readStreaming({ content, chunkBytes, maxLineTextBytes });
      const problem = `the line has more than ${maxLineTextBytes} bytes outside inlineData.data (text and metadata)`;
      expect(lines[0]).toEqual({ kind: 'unreadable', lineNumber: 1, key: 'big', problem });
      expect(lines[1]).toEqual({ kind: 'unreadable', lineNumber: 2, key: 'many', problem });
      await expectBlob(readBlobReference(readParts(lines[2])[1]), image);
      expect(lines[3]).toMatchObject({ kind: 'response', key: 'near' });
    }
  });
});

/** A seeded generator of JSON text that exercises every token: escapes in both forms, multi-byte UTF-8, numbers in all their shapes. */
function createJsonGenerator(seed: number): { generateLine: (key: string) => string } {
  const random = createSeededRandom(seed);
  const pick = <Item>(items: readonly Item[]): Item => items[Math.floor(random() * items.length)]!;
  const characters = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\u0000', '\u001f', '\u007f', 'é', 'ß', '€', '中', '😀', '𝄞', '\u2028', '\ufeff', '\ud800', '\udfff', '\uffff'];
  const numbers = ['0', '-0', '7', '-12', '3.25', '1e3', '1E+3', '-2.5e-3', '0.000123e-7', '123456789012345678901234567890', '1.7976931348623157e308', '5e-324', '1e400', '-0.0', '9007199254740993'];
  const whitespace = ['', '', '', ' ', '\t', '\r', '  \t '];
  const space = (): string => pick(whitespace);

  function serializeCharacter(character: string): string {
    const unit = character.charCodeAt(0);
    const isLoneSurrogate = character.length === 1 && unit >= 0xd800 && unit <= 0xdfff;
    // One \uXXXX per UTF-16 unit: an astral character becomes a surrogate pair of escapes.
    const escapeUnits = (): string =>
      Array.from({ length: character.length }, (_unused, index) => {
        const hex = character.charCodeAt(index).toString(16).padStart(4, '0');
        return `\\u${random() < 0.5 ? hex : hex.toUpperCase()}`;
      }).join('');
    if (character === '"' || character === '\\') return random() < 0.5 ? `\\${character}` : escapeUnits();
    if (unit < 0x20 || isLoneSurrogate) {
      const short = { '\n': '\\n', '\t': '\\t' }[character];
      return short !== undefined && random() < 0.5 ? short : escapeUnits();
    }
    if (character === '/' && random() < 0.3) return '\\/';
    return random() < 0.2 ? escapeUnits() : character;
  }

  function generateString(): string {
    const length = Math.floor(random() * 12);
    return `"${Array.from({ length }, () => serializeCharacter(pick(characters))).join('')}"`;
  }

  function generateValue(depth: number): string {
    const choice = random();
    if (depth < 6 && choice < 0.2) return generateObject(depth + 1);
    if (depth < 6 && choice < 0.35) {
      const items = Array.from({ length: Math.floor(random() * 4) }, () => `${space()}${generateValue(depth + 1)}${space()}`);
      return `[${items.join(',')}${items.length === 0 ? space() : ''}]`;
    }
    if (choice < 0.6) return generateString();
    if (choice < 0.85) return random() < 0.5 ? pick(numbers) : String(Math.round((random() - 0.5) * 1e6) / pick([1, 10, 1000, 1e9]));
    return pick(['true', 'false', 'null']);
  }

  function generateObject(depth: number): string {
    const keys = ['a', 'b', 'text', '__proto__', 'constructor', 'prototype', 'key', 'data', 'é€'];
    const members = Array.from({ length: Math.floor(random() * 5) }, () => {
      const key = random() < 0.7 ? `"${pick(keys)}"` : generateString();
      return `${space()}${key}${space()}:${space()}${generateValue(depth)}${space()}`;
    });
    return `{${members.join(',')}${members.length === 0 ? space() : ''}}`;
  }

  return { generateLine: (key) => `${space()}{${space()}"key"${space()}:${space()}"${key}",${space()}"response":${space()}${generateObject(1)}${space()}}${space()}` };
}

describe('createStreamingResultReader: values exactly as JSON.parse gives them', () => {
  it('matches JSON.parse on generated lines at every chunk size from 1 to 17', async () => {
    const generator = createJsonGenerator(7);
    const texts = Array.from({ length: 60 }, (_unused, index) => generator.generateLine(`k${index}`));
    const expected = texts.map((text) => JSON.parse(text) as { key: string; response: Record<string, unknown> });
    const content = texts.map((text, index) => `${text}${index % 3 === 0 ? '\r\n' : '\n'}${index % 7 === 0 ? '\n' : ''}`).join('');
    expect(Buffer.byteLength(content)).toBeGreaterThan(4000);
    for (const chunkBytes of chunkSizes) {
      const lines = await readStreaming({ content, chunkBytes });
      expect(lines).toHaveLength(texts.length);
      for (const [index, line] of lines.entries()) {
        expect(line.kind).toBe('response');
        const response = (line as Extract<ResultLine, { kind: 'response' }>).response;
        expect(response).toEqual(expected[index]!.response);
        expect(JSON.stringify(response)).toBe(JSON.stringify(expected[index]!.response));
      }
    }
  });

  it('reads numbers, literals, escapes, surrogate pairs and split multi-byte characters exactly', async () => {
    const line = '{"key":"k","response":{"numbers":[0,-0,1.5e-10,-2E+21,123456789012345678901234567890,1e400,0.1],"literals":[true,false,null],"text":"\\ud83d\\ude00 😀 \\ud800 \\u00E9é€𝄞 \\"\\\\\\/\\b\\f\\n\\r\\t","\\u006Bey":"escaped key"}}';
    const expected = (JSON.parse(line) as { response: Record<string, unknown> }).response;
    for (const chunkBytes of chunkSizes) {
      const [result] = await readStreaming({ content: line, chunkBytes });
      const response = (result as Extract<ResultLine, { kind: 'response' }>).response;
      expect(response).toEqual(expected);
      expect(Object.is((response['numbers'] as number[])[1], -0)).toBe(true);
      expect(response['text']).toBe('😀 😀 \ud800 éé€𝄞 "\\/\b\f\n\r\t');
    }
  });
});

/** A named pipe, so a test can hold the writer back and see what the reader does with a line that has not ended. */
async function createPipe(): Promise<string> {
  const path = join(directory, `pipe-${fileCount}`);
  fileCount += 1;
  execFileSync('mkfifo', [path]);
  return path;
}

function waitFor<Value>(promise: Promise<Value>, milliseconds: number): Promise<Value> {
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`nothing after ${milliseconds} ms`)), milliseconds).unref()),
  ]);
}

describe.skipIf(process.platform === 'win32')('createStreamingResultReader: streaming', () => {
  it('writes an image to disk as it arrives, before its line has ended', async () => {
    const pipe = await createPipe();
    const lines = createStreamingResultReader({ blobDirectory, chunkBytes: 64 * 1024 })(pipe)[Symbol.asyncIterator]();
    const first = lines.next();
    const writer = await open(pipe, 'w');
    const image = randomBytes(3 * 1024 * 1024);
    const line = createImageLine({ key: 'streamed', data: image.toString('base64') });
    const half = Math.floor(line.length / 2);
    await writer.write(line.slice(0, half));
    // Half a line is in: the temporary blob must already hold most of its half of the image.
    const deadline = Date.now() + 10_000;
    let temporaryBytes = 0;
    while (temporaryBytes < 1024 * 1024 && Date.now() < deadline) {
      const names = await listBlobDirectory();
      const sizes = await Promise.all(names.map(async (name) => (await stat(join(blobDirectory, name))).size));
      temporaryBytes = Math.max(0, ...sizes);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(temporaryBytes).toBeGreaterThanOrEqual(1024 * 1024);
    expect((await listBlobDirectory())[0]).toMatch(/^partial-/);
    await writer.write(`${line.slice(half)}\n`);
    await writer.close();
    await expectBlob(readBlobReference(readParts((await waitFor(first, 10_000)).value as ResultLine)[1]), image);
    expect((await lines.next()).done).toBe(true);
    expect(await listBlobDirectory()).toEqual([hashBytes(image)]);
  });

  it('gives up on an over-long text as soon as it passes the cap, without waiting for the line to end', async () => {
    const pipe = await createPipe();
    const maxLineTextBytes = 128 * 1024;
    const lines = createStreamingResultReader({ blobDirectory, chunkBytes: 16 * 1024, maxLineTextBytes })(pipe)[Symbol.asyncIterator]();
    const first = lines.next();
    const writer = await open(pipe, 'w');
    // Not awaited: the pipe fills once the reader stops at its yield, and only the next read empties it.
    const writing = writer.write(`{"key":"huge","response":{"text":"${'x'.repeat(1024 * 1024)}`);
    const result = await waitFor(first, 10_000);
    expect(result.value).toEqual({
      kind: 'unreadable',
      lineNumber: 1,
      key: 'huge',
      problem: `the line has more than ${maxLineTextBytes} bytes outside inlineData.data (text and metadata)`,
    });
    const rest = collectLines({ [Symbol.asyncIterator]: () => lines });
    await writing;
    await writer.write(`${'x'.repeat(8 * 1024 * 1024)}"}}\n{"key":"after","response":{"ok":true}}\n`);
    await writer.close();
    expect(await waitFor(rest, 10_000)).toEqual([{ kind: 'response', key: 'after', response: { ok: true }, lineNumber: 2 }]);
  });
});

describe('createStreamingResultReader: options', () => {
  it('refuses a chunk size or cap that is not a positive integer', () => {
    expect(() => createStreamingResultReader({ blobDirectory, chunkBytes: 0 })).toThrow(RangeError);
    expect(() => createStreamingResultReader({ blobDirectory, maxLineTextBytes: 1.5 })).toThrow(RangeError);
  });
});
