import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodePng } from '../../emulator/png/encode-png.ts';
import { runCli } from '../../pipeline/cli/run-cli.ts';
import { createMemoryLogger } from '../../lib/logger.ts';
import { chargenBinary, runNodeProcess } from '../support/chargen-process.ts';

interface ExtractSummary {
  exitCode: number;
  written: { key: string; line: number; image: string; sidecar: string }[];
  failures: { line?: number; key?: string; reason: string }[];
}

interface Sidecar {
  key: string;
  image: { file: string; width: number; height: number; sha256: string };
  thoughtImages: { file: string; sha256: string }[];
  resultFile: { path: string; line: number };
  finishReason: string;
  textParts: string[];
  warnings: string[];
}

const finalImage = encodePng({ width: 48, height: 64, seed: 'final' });
const thoughtImage = encodePng({ width: 24, height: 32, seed: 'draft', variant: 'draft' });
const otherImage = encodePng({ width: 40, height: 40, seed: 'other' });

/** Why only a call stack looks like: `    at name (file:line:column)`. */
const stackTracePattern = /^\s+at .+:\d+:\d+\)?$/m;

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function createImagePart(options: { bytes: Buffer; thought?: boolean }): Record<string, unknown> {
  const part: Record<string, unknown> = { inlineData: { mimeType: 'image/png', data: options.bytes.toString('base64') } };
  if (options.thought) part['thought'] = true;
  else part['thoughtSignature'] = 'c2lnbmF0dXJl';
  return part;
}

/** A batch result line as the API writes it: a thought text, optional thought images, the final image. */
function createResponseLine(options: { key: string; parts: Record<string, unknown>[]; finishReason?: string }): string {
  return JSON.stringify({
    key: options.key,
    response: {
      candidates: [{ content: { role: 'model', parts: [{ text: 'Planning the pose.', thought: true }, ...options.parts] }, finishReason: options.finishReason ?? 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 1120, totalTokenCount: 1400, thoughtsTokenCount: 268 },
      modelVersion: 'gemini-3-pro-image',
    },
  });
}

function createImageLine(options: { key: string; bytes?: Buffer }): string {
  return createResponseLine({ key: options.key, parts: [createImagePart({ bytes: options.bytes ?? finalImage })] });
}

/** Every path under a folder (folders end with the separator), except under the ones named in `skip`. */
async function listTree(options: { folder: string; skip?: string[] }): Promise<string[]> {
  const entries = await readdir(options.folder, { recursive: true, withFileTypes: true });
  return entries
    .map((entry) => join(entry.parentPath, entry.name) + (entry.isDirectory() ? sep : ''))
    .filter((path) => !(options.skip ?? []).some((skipped) => path === skipped + sep || path.startsWith(skipped + sep)))
    .sort();
}

describe('chargen extract, as a child process', () => {
  let folder = '';
  const outputFolder = () => join(folder, 'out');

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'chargen-extract-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function writeResultFile(options: { name?: string; content: string | Buffer }): Promise<string> {
    const path = join(folder, options.name ?? 'results.jsonl');
    await writeFile(path, options.content);
    return path;
  }

  async function extract(options: { resultFile: string; out?: string; flags?: string[] }) {
    const result = await runNodeProcess({ cwd: folder, args: [chargenBinary, 'extract', options.resultFile, '--out', options.out ?? 'out', ...(options.flags ?? [])] });
    const summary = (options.flags ?? []).includes('--json') && result.stdout.trim() !== '' ? (JSON.parse(result.stdout) as ExtractSummary) : undefined;
    return { ...result, summary };
  }

  async function readSidecar(name: string): Promise<Sidecar> {
    return JSON.parse(await readFile(join(outputFolder(), name), 'utf8')) as Sidecar;
  }

  describe('a good result file', () => {
    const goodFile = () =>
      [
        createResponseLine({ key: 'hero', parts: [createImagePart({ bytes: thoughtImage, thought: true }), createImagePart({ bytes: finalImage })] }),
        createResponseLine({ key: 'villain', parts: [createImagePart({ bytes: otherImage })] }),
        createResponseLine({ key: 'sketch-only', parts: [createImagePart({ bytes: thoughtImage, thought: true })] }),
        '',
      ].join('\n');

    it('writes each final image with its sidecar, and no thought image by default', async () => {
      const resultFile = await writeResultFile({ content: goodFile() });
      const { code, stdout, stderr } = await extract({ resultFile });
      expect(code, stderr).toBe(0);
      expect(stdout).toContain('3 images written to out');
      expect((await readdir(outputFolder())).sort()).toEqual([
        'hero.json', 'hero.png', 'hero.thought-signature', 'sketch-only.json', 'sketch-only.png', 'villain.json', 'villain.png', 'villain.thought-signature',
      ]);
      // The final image's thoughtSignature, the same base64 text the line carried (a thought image carries none).
      expect(await readFile(join(outputFolder(), 'hero.thought-signature'), 'latin1')).toBe('c2lnbmF0dXJl');
      expect((await readSidecar('hero.json')) as unknown).toMatchObject({ thoughtSignature: { file: 'hero.thought-signature', bytes: 12 } });
      expect(await readFile(join(outputFolder(), 'hero.png'))).toEqual(finalImage);
      expect(await readFile(join(outputFolder(), 'villain.png'))).toEqual(otherImage);
      const hero = await readSidecar('hero.json');
      expect(hero).toMatchObject({
        key: 'hero',
        image: { file: 'hero.png', width: 48, height: 64, sha256: sha256(finalImage) },
        thoughtImages: [],
        resultFile: { path: resultFile, line: 1 },
        finishReason: 'STOP',
        warnings: [],
      });
      // The thought text is the model's scratchpad, not a caption.
      expect(hero.textParts).toEqual([]);
      const sketch = await readSidecar('sketch-only.json');
      expect(sketch.image).toMatchObject({ width: 24, height: 32, sha256: sha256(thoughtImage) });
      expect(sketch.warnings).toEqual([expect.stringContaining('only thought-flagged images')]);
    });

    it('keeps the thought images too with --keep-thoughts', async () => {
      const resultFile = await writeResultFile({ content: goodFile() });
      const { code, stderr } = await extract({ resultFile, flags: ['--keep-thoughts'] });
      expect(code, stderr).toBe(0);
      expect((await readdir(outputFolder())).filter((name) => name.startsWith('hero')).sort()).toEqual(['hero.json', 'hero.png', 'hero.thought-1.png', 'hero.thought-signature']);
      expect(await readFile(join(outputFolder(), 'hero.png'))).toEqual(finalImage);
      expect(await readFile(join(outputFolder(), 'hero.thought-1.png'))).toEqual(thoughtImage);
      expect((await readSidecar('hero.json')).thoughtImages).toEqual([expect.objectContaining({ file: 'hero.thought-1.png', sha256: sha256(thoughtImage) })]);
    });

    it('reads CRLF line ends, escaped slashes in the base64 and a last line without a line end', async () => {
      const escapedSlashes = createImageLine({ key: 'escaped', bytes: otherImage }).replaceAll('/', '\\/');
      expect(escapedSlashes).toContain('\\/');
      // REST field names in snake_case, as some writers of result files use them.
      const snakeCase = JSON.stringify({ key: 'snake', response: { candidates: [{ content: { parts: [{ inline_data: { mime_type: 'image/png', data: finalImage.toString('base64') } }] }, finish_reason: 'STOP' }] } });
      const content = [createImageLine({ key: 'first' }), '', escapedSlashes, snakeCase, createImageLine({ key: 'last', bytes: thoughtImage })].join('\r\n');
      const resultFile = await writeResultFile({ content });
      const { code, stderr, summary } = await extract({ resultFile, flags: ['--json'] });
      expect(code, stderr).toBe(0);
      expect(summary?.failures).toEqual([]);
      // A blank line still counts: line numbers are the file's.
      expect(summary?.written.map((entry) => [entry.key, entry.line])).toEqual([
        ['first', 1],
        ['escaped', 3],
        ['snake', 4],
        ['last', 5],
      ]);
      expect(await readFile(join(outputFolder(), 'escaped.png'))).toEqual(otherImage);
      expect(await readFile(join(outputFolder(), 'snake.png'))).toEqual(finalImage);
      expect(await readFile(join(outputFolder(), 'last.png'))).toEqual(thoughtImage);
    });

    it('names a truncated last line as a failure (exit 3) and still writes the others', async () => {
      const cut = createImageLine({ key: 'cut-short', bytes: otherImage });
      const content = `${createImageLine({ key: 'whole' })}\n${cut.slice(0, Math.floor(cut.length / 2))}`;
      const resultFile = await writeResultFile({ content });
      const { code, stderr, summary } = await extract({ resultFile, flags: ['--json'] });
      expect(code).toBe(3);
      expect(summary?.exitCode).toBe(3);
      expect(summary?.written.map((entry) => entry.key)).toEqual(['whole']);
      expect(summary?.failures).toEqual([{ line: 2, key: 'cut-short', reason: expect.stringContaining('truncated') }]);
      expect(stderr).toContain('line 2');
      expect(stderr).toContain('cut-short');
      expect(stderr).not.toMatch(stackTracePattern);
      expect((await readdir(outputFolder())).sort()).toEqual(['whole.json', 'whole.png', 'whole.thought-signature']);
    });
  });

  describe('a hostile result file', () => {
    const longKey = `${'long-key-'.repeat(500)}/end`;
    const unicodeKey = 'Zoë 🐉 角色';
    /** `[key, line]` of each line that must give an image, in file order. */
    const expectedWritten: [string, number][] = [
      ['../../evil', 1],
      ['/etc/passwd', 2],
      ['a/b\\c', 3],
      [longKey, 4],
      [unicodeKey, 5],
      ['__proto__', 6],
      ['..', 7],
      ['Hero', 8],
      ['hero', 9],
    ];
    const garbage = Buffer.from(randomBytes(400).filter((byte) => byte !== 0x0a && byte !== 0x0d));
    const polluting = `{"__proto__":{"polluted":"root"},"key":"__proto__","response":{"__proto__":{"polluted":"response"},"candidates":[{"content":{"parts":[{"__proto__":{"polluted":"part"},"inlineData":{"mimeType":"image/png","data":"${finalImage.toString('base64')}","__proto__":{"polluted":"inline"}}}]},"finishReason":"STOP"}],"usageMetadata":{"__proto__":{"polluted":"usage"},"totalTokenCount":1}}}`;
    const hostileLines: (string | Buffer)[] = [
      createImageLine({ key: '../../evil' }),
      createImageLine({ key: '/etc/passwd' }),
      createImageLine({ key: 'a/b\\c' }),
      createImageLine({ key: longKey }),
      createImageLine({ key: unicodeKey }),
      polluting,
      createImageLine({ key: '..' }),
      createImageLine({ key: 'Hero', bytes: otherImage }),
      createImageLine({ key: 'hero', bytes: thoughtImage }),
      // Line 10 on: each one a failure.
      createImageLine({ key: '../../evil', bytes: otherImage }),
      createImageLine({ key: 'bad-base64' }).replace(/"data":"iVBOR/, '"data":"iV$BOR'),
      garbage,
      '{"key":"x","error":{"code":13,"message":"internal"}}',
      JSON.stringify({ key: 'unsafe', response: { candidates: [{ finishReason: 'IMAGE_SAFETY', index: 0 }], modelVersion: 'gemini-3-pro-image' } }),
      JSON.stringify({ key: 'blocked', response: { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 9 } } }),
      createImageLine({ key: 'not-an-image', bytes: Buffer.from('GIF89a, or rather just some text pretending to be an image') }),
      JSON.stringify({ response: { candidates: [] } }),
      // A reference to bytes on disk may only come from the reader itself, never from the file.
      JSON.stringify({ key: 'forged', response: { candidates: [{ content: { parts: [{ inlineData: { mimeType: 'image/png', blob: { sha256: sha256(finalImage), bytes: finalImage.length } } }] } }] } }),
    ];
    const expectedFailures = [
      { line: 10, key: '../../evil', reason: expect.stringMatching(/appeared before on line 1/) },
      { line: 11, key: 'bad-base64', reason: expect.stringMatching(/not base64 \(character '\$'/) },
      { line: 12, reason: expect.stringMatching(/not valid JSON/) },
      { line: 13, key: 'x', reason: 'error 13 INTERNAL: internal' },
      { line: 14, key: 'unsafe', reason: 'finish reason IMAGE_SAFETY' },
      { line: 15, key: 'blocked', reason: 'prompt blocked: PROHIBITED_CONTENT' },
      { line: 16, key: 'not-an-image', reason: expect.stringMatching(/image part 1 is not a usable image: not a PNG, JPEG or WebP image/) },
      { line: 17, reason: 'no string "key"' },
      { line: 18, key: 'forged', reason: expect.stringMatching(/no stored data/) },
    ];
    const hostileContent = () => Buffer.concat(hostileLines.flatMap((line) => [Buffer.isBuffer(line) ? line : Buffer.from(line), Buffer.from('\n')]));

    it('writes only inside --out, names every failure with its line, and exits 3 without a stack trace', async () => {
      const resultFile = await writeResultFile({ content: hostileContent() });
      // Deep enough that `../../evil` resolved from the output folder would still land inside the test folder.
      const out = join(folder, 'deep', 'er', 'out');
      await mkdir(out, { recursive: true });
      const before = await listTree({ folder, skip: [out] });
      const passwordFile = await readFile('/etc/passwd').catch(() => undefined);

      const { code, stderr, summary } = await extract({ resultFile, out: join('deep', 'er', 'out'), flags: ['--json'] });
      expect(code, stderr).toBe(3);
      expect(stderr).not.toMatch(stackTracePattern);
      expect(await listTree({ folder, skip: [out] })).toEqual(before);
      expect(await readFile('/etc/passwd').catch(() => undefined)).toEqual(passwordFile);

      expect(summary?.failures).toEqual(expectedFailures.map((failure) => expect.objectContaining(failure)));
      for (const failure of expectedFailures) expect(stderr).toContain(`results.jsonl line ${failure.line}`);
      expect(summary?.written.map((entry) => [entry.key, entry.line])).toEqual(expectedWritten);

      const files = await readdir(out);
      // Images, sidecars and signatures only: no temporary or blob folder is left behind.
      expect(files.filter((name) => !/\.(png|json|thought-signature)$/.test(name))).toEqual([]);
      expect(files.filter((name) => name.endsWith('.png'))).toHaveLength(expectedWritten.length);
      for (const entry of summary?.written ?? []) {
        for (const path of [entry.image, entry.sidecar]) {
          expect(resolve(folder, path).startsWith(out + sep), path).toBe(true);
          expect(path.slice(path.lastIndexOf('/') + 1)).not.toMatch(/^\.|[\\/:\0]/);
          expect(Buffer.byteLength(path.slice(path.lastIndexOf('/') + 1))).toBeLessThanOrEqual(100);
        }
        const sidecar = JSON.parse(await readFile(resolve(folder, entry.sidecar), 'utf8')) as Sidecar;
        expect(sidecar.key).toBe(entry.key);
        expect(sidecar.resultFile.line).toBe(entry.line);
      }
      const imageOf = (key: string) => summary?.written.find((entry) => entry.key === key)?.image;
      expect(imageOf('../../evil')).toBe(join('deep', 'er', 'out', 'evil.png'));
      expect(imageOf('/etc/passwd')).toBe(join('deep', 'er', 'out', 'etc-passwd.png'));
      // Names that differ only in letter case are one file on some file systems: neither may overwrite the other.
      expect(imageOf('Hero')?.toLowerCase()).not.toBe(imageOf('hero')?.toLowerCase());
      expect(await readFile(resolve(folder, imageOf('Hero') ?? ''))).toEqual(otherImage);
      expect(await readFile(resolve(folder, imageOf('hero') ?? ''))).toEqual(thoughtImage);
    });

    it('does not pollute Object.prototype (in-process, through runCli)', async () => {
      const resultFile = await writeResultFile({ content: hostileContent() });
      const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
      const logger = createMemoryLogger();
      const exitCode = await runCli({ argv: ['node', 'chargen', 'extract', resultFile, '--out', outputFolder(), '--json'], cwd: folder, env: {}, logger });
      expect(exitCode).toBe(3);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
      expect(Object.getPrototypeOf({})).toBe(Object.prototype);
      const summary = JSON.parse(logger.lines.find((line) => line.stream === 'stdout')?.text ?? '{}') as ExtractSummary;
      expect(summary.written.map((entry) => entry.key)).toContain('__proto__');
      const sidecar = await readSidecar('__proto__.json');
      expect(sidecar.key).toBe('__proto__');
      expect(Object.getPrototypeOf(sidecar)).toBe(Object.prototype);
    });

    // BUG (stages/synthesize/extract-result-file.ts chooseName): the name of a key is checked against other keys'
    // names, not against the thought image names `<name>.thought-N.png` that --keep-thoughts adds, so the key
    // `hero.thought-1` takes `hero.thought-1.png` and overwrites (or is overwritten by) hero's thought image.
    it('does not let a key named like another key\'s thought image overwrite it (--keep-thoughts)', async () => {
      const content = [
        createResponseLine({ key: 'hero', parts: [createImagePart({ bytes: thoughtImage, thought: true }), createImagePart({ bytes: finalImage })] }),
        createImageLine({ key: 'hero.thought-1', bytes: otherImage }),
        '',
      ].join('\n');
      const resultFile = await writeResultFile({ content });
      const { code, stderr, summary } = await extract({ resultFile, flags: ['--json', '--keep-thoughts'] });
      expect(code, stderr).toBe(0);
      const heroSidecar = await readSidecar('hero.json');
      const heroThought = heroSidecar.thoughtImages[0]?.file ?? '';
      expect(sha256(await readFile(join(outputFolder(), heroThought)))).toBe(heroSidecar.thoughtImages[0]?.sha256);
      const other = summary?.written.find((entry) => entry.key === 'hero.thought-1');
      expect(await readFile(resolve(folder, other?.image ?? ''))).toEqual(otherImage);
    });
  });

  // BUG (stages/synthesize/extract-result-file.ts, the first `mkdir(outputDirectory, { recursive: true })`): when
  // --out names an existing file, mkdir's EEXIST is thrown past runExtractCommand and runCli, and bin/chargen.js prints
  // Node's stack trace and exits 1, where a usage error (exit 2) naming --out is expected.
  it('exits 2 without a stack trace when --out is an existing file', async () => {
    const resultFile = await writeResultFile({ content: `${createImageLine({ key: 'hero' })}\n` });
    await writeFile(join(folder, 'not-a-folder'), 'mine');
    const { code, stderr } = await extract({ resultFile, out: 'not-a-folder' });
    expect(stderr).not.toMatch(stackTracePattern);
    expect(stderr).toContain('not-a-folder');
    expect(code).toBe(2);
    expect(await readFile(join(folder, 'not-a-folder'), 'utf8')).toBe('mine');
  });

  describe('a result file that is not one, or no --out: exit 2 with one clear line, creating nothing', () => {
    const expectOneLine = async (result: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) => {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).not.toMatch(stackTracePattern);
      const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
      expect(await readdir(folder)).not.toContain('out');
    };

    it('a folder', async () => {
      await mkdir(join(folder, 'batch-output'));
      await expectOneLine(await extract({ resultFile: 'batch-output' }), /batch-output: a folder, not a file/);
    });

    it('an image, a pretty-printed JSON file, an empty file and a request file', async () => {
      await writeResultFile({ name: 'hero.png', content: finalImage });
      await expectOneLine(await extract({ resultFile: 'hero.png' }), /hero\.png: not a JSONL result file: .*PNG image/);
      await writeResultFile({ name: 'pretty.json', content: JSON.stringify(JSON.parse(createImageLine({ key: 'hero' })), null, 2) });
      await expectOneLine(await extract({ resultFile: 'pretty.json' }), /pretty\.json: not a JSONL result file: its first line is not a JSON object/);
      await writeResultFile({ name: 'empty.jsonl', content: '' });
      await expectOneLine(await extract({ resultFile: 'empty.jsonl' }), /empty\.jsonl: empty/);
      await writeResultFile({ name: 'requests.jsonl', content: `${JSON.stringify({ key: 'hero', request: { contents: [] } })}\n` });
      await expectOneLine(await extract({ resultFile: 'requests.jsonl' }), /requests\.jsonl: a batch request file/);
    });

    it('no --out', async () => {
      const resultFile = await writeResultFile({ content: `${createImageLine({ key: 'hero' })}\n` });
      const result = await runNodeProcess({ cwd: folder, args: [chargenBinary, 'extract', resultFile] });
      await expectOneLine(result, /--out .*the folder the images go to.*chargen extract .* --out /);
    });
  });

  it('exits 2 and names the file when it does not exist, creating nothing', async () => {
    const { code, stdout, stderr } = await extract({ resultFile: 'missing.jsonl', flags: ['--json'] });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('missing.jsonl: no such file');
    expect(stderr).not.toMatch(stackTracePattern);
    expect(await readdir(folder)).toEqual([]);
  });
});
