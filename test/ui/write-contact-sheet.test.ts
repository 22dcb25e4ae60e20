import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { createMemoryLogger } from '../../lib/logger.ts';
import { runPipeline } from '../../pipeline/run-pipeline.ts';
import { writeJsonAtomic } from '../../lib/store/atomic-file.ts';
import { escapeHtml, formatRelativeHref, renderContactSheet, writeContactSheet, type ContactSheetEntry, type ContactSheetFailure } from '../../stages/synthesize/write-contact-sheet.ts';
import { writeAnalysisCheckpoint } from '../../stages/analyze/analysis-checkpoint.ts';
import type { AnalyzedImage } from '../../stages/analyze/analysis-result.ts';
import { writePromptsCheckpoint } from '../../stages/compile/prompts-checkpoint.ts';
import { imageSidecarSchema } from '../../stages/synthesize/image-sidecar.ts';
import { writeSynthesizeCheckpoint } from '../../stages/synthesize/synthesize-checkpoint.ts';
import { createSamplePng } from '../support/sample-images.ts';
import { createAnalyzedImages } from '../support/sample-records.ts';
import { startTestEmulator } from '../support/start-test-emulator.ts';

const hostilePrompt = `A knight <script>alert(1)</script> says "hi" & 'bye'`;
const hostileSourcePath = `heroes/Zoë "the bold" #1 100% ?x='y'.png`;

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every href and src value in the document, with the HTML escaping undone (as a browser reads them). */
function listUrls(document: string): string[] {
  const unescape = (value: string) => value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return [...document.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((match) => unescape(match[1] as string));
}

/** Where a relative URL from the sheet lands on disk. */
function resolveHref(options: { folder: string; href: string }): string {
  return resolve(options.folder, ...options.href.split('/').map((segment) => decodeURIComponent(segment)));
}

function createEntry(overrides: Partial<ContactSheetEntry> = {}): ContactSheetEntry {
  return {
    sourcePath: 'bard.png',
    variant: 1,
    image: ['bard.png'],
    source: ['..', 'input_images', 'bard.png'],
    prompt: 'A bard.',
    model: 'gemini-3-pro-image',
    imageConfig: { aspectRatio: '3:4', imageSize: '1K' },
    width: 896,
    height: 1200,
    warnings: [],
    ...overrides,
  };
}

describe('renderContactSheet', () => {
  it('escapes every text from data and percent-encodes every path segment of a URL', () => {
    const document = renderContactSheet({
      title: 'sheet <b>',
      generatedAt: '2025-01-02T03:04:05.000Z',
      entries: [
        createEntry({
          sourcePath: hostileSourcePath,
          image: [`Zoë "the bold" #1 100% ?.png`],
          source: ['..', 'input images', ...hostileSourcePath.split('/')],
          prompt: hostilePrompt,
          model: `model"><script>alert(2)</script>`,
          warnings: [`<img src=x onerror=alert(3)>`],
        }),
      ],
      failures: [],
    });
    expect(document).not.toMatch(/<script/i);
    expect(document).not.toContain('<img src=x');
    expect(document).toContain('A knight &lt;script&gt;alert(1)&lt;/script&gt; says &quot;hi&quot; &amp; &#39;bye&#39;');
    expect(document).toContain('model&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(document).toContain('heroes/Zoë &quot;the bold&quot; #1 100% ?x=&#39;y&#39;.png');
    expect(document).toContain('<title>sheet &lt;b&gt;</title>');

    const urls = listUrls(document);
    expect(urls).toContain('../input%20images/heroes/Zo%C3%AB%20%22the%20bold%22%20%231%20100%25%20%3Fx%3D\'y\'.png');
    expect(urls).toContain('Zo%C3%AB%20%22the%20bold%22%20%231%20100%25%20%3F.png');
    // The quote encodeURIComponent leaves alone is still escaped inside the attribute.
    expect(document).toContain(`%3Fx%3D&#39;y&#39;.png"`);
    for (const url of urls) expect(url).not.toMatch(/[\s"#?<>]/);
  });

  it('never turns a path into a scheme or an absolute URL', () => {
    const document = renderContactSheet({
      title: 'sheet',
      generatedAt: 'now',
      entries: [createEntry({ image: ['javascript:alert(1)'], source: ['', 'etc', 'passwd'] }), createEntry({ variant: 2, image: ['//evil.example', 'x.png'], source: ['C:', 'x.png'] }), createEntry({ variant: 3, image: ['', '', 'evil.example', 'y.png'] })],
      failures: [],
    });
    const urls = listUrls(document);
    expect(urls).toEqual(expect.arrayContaining(['javascript%3Aalert(1)', 'etc/passwd', '%2F%2Fevil.example/x.png', 'C%3A/x.png', 'evil.example/y.png']));
    for (const url of urls) {
      expect(url).not.toMatch(/^[a-z][a-z0-9+.-]*:/i);
      expect(url.startsWith('/')).toBe(false);
    }
    expect(formatRelativeHref(['a', '\ud800b'])).toBe('a/%EF%BF%BDb');
  });

  it("names a shot's card and failure by the shot (escaped), and shows the seed", () => {
    const document = renderContactSheet({
      title: 'sheet',
      generatedAt: 'now',
      entries: [createEntry({ shot: 'front <full>', seed: 42 })],
      failures: [{ stage: 'synthesize', sourcePath: 'bard.png', variant: 2, shot: 'action & pose', reason: 'IMAGE_SAFETY', retryable: false, fix: 'change it', source: ['bard.png'] }],
    });
    expect(document).toContain('<dt>shot</dt><dd>front &lt;full&gt;</dd><dt>seed</dt><dd>42</dd>');
    expect(document).not.toContain('<dt>variant</dt>');
    expect(document).toContain('<td>action &amp; pose</td>');
  });

  it('is deterministic and lays out entries with lazy thumbnails, prompts folded away', () => {
    const options = { title: 'sheet', generatedAt: '2025-01-02T03:04:05.000Z', entries: [createEntry(), createEntry({ variant: 2, image: ['bard-2.png'] })], failures: [] };
    const document = renderContactSheet(options);
    expect(renderContactSheet(structuredClone(options))).toBe(document);
    expect(document.startsWith('<!doctype html>')).toBe(true);
    expect(document).toContain('2 images, 0 failed · made <time datetime="2025-01-02T03:04:05.000Z">2 January 2025, 03:04 UTC</time>');
    expect(document.match(/<img [^>]*loading="lazy" decoding="async">/g)).toHaveLength(4);
    expect(document).toContain('<a href="bard-2.png"><img src="bard-2.png"');
    expect(document).toContain('width="896" height="1200"');
    expect(document).toContain('<details><summary>prompt</summary><pre>A bard.</pre></details>');
    expect(document).toContain('3:4, 1K');
    expect(document).not.toContain('id="failures"');
    // Self-contained: nothing fetched from elsewhere.
    expect(document).not.toMatch(/https?:|<link|<script|@import/i);
  });

  it('lists failures in their own section with source, variant and reason', () => {
    const failures: ContactSheetFailure[] = [
      { stage: 'synthesize', sourcePath: 'mage.png', variant: 2, reason: 'blocked: <PROHIBITED_CONTENT>', retryable: false, fix: 'Change the "templates".', source: ['..', 'input_images', 'mage.png'] },
    ];
    const document = renderContactSheet({ title: 'sheet', generatedAt: 'now', entries: [createEntry()], failures });
    expect(document).toContain('1 image, 1 failed');
    const section = /<section id="failures">[\s\S]*?<\/section>/.exec(document)?.[0] ?? '';
    expect(section).toContain('<a href="../input_images/mage.png">mage.png</a>');
    expect(section).toContain('<td>2</td>');
    expect(section).toContain('blocked: &lt;PROHIBITED_CONTENT&gt;');
    expect(section).toContain('Change the &quot;templates&quot;.');
    expect(section).not.toContain('bard.png');
  });

  it('lists the inputs that failed analysis too, with their reason, where they failed and no variant', () => {
    const failures: ContactSheetFailure[] = [
      { stage: 'analyze', sourcePath: 'broken.png', reason: 'not an image: the bytes are <text>', retryable: false, fix: 'Replace the file.', source: ['..', 'input_images', 'broken.png'] },
      { stage: 'synthesize', sourcePath: 'mage.png', variant: 2, reason: 'IMAGE_SAFETY', retryable: false, fix: 'Change the prompt.', source: ['..', 'input_images', 'mage.png'] },
    ];
    const document = renderContactSheet({ title: 'sheet', generatedAt: '2025-01-02T03:04:05.000Z', entries: [createEntry()], failures });
    expect(document).toContain('1 image, 2 failed');
    const rows = (/<section id="failures">[\s\S]*?<\/section>/.exec(document)?.[0] ?? '').split('\n').filter((line) => line.startsWith('<tr><td>'));
    expect(rows).toEqual([
      '<tr><td><a href="../input_images/broken.png">broken.png</a></td><td>analyze</td><td>—</td><td class="reason">not an image: the bytes are &lt;text&gt;</td><td>no</td><td>Replace the file.</td></tr>',
      '<tr><td><a href="../input_images/mage.png">mage.png</a></td><td>synthesize</td><td>2</td><td class="reason">IMAGE_SAFETY</td><td>no</td><td>Change the prompt.</td></tr>',
    ]);
  });

  it('shows a placeholder linking to a source a browser cannot show (HEIC, HEIF), judged by its bytes, not its name', () => {
    const document = renderContactSheet({
      title: 'sheet',
      generatedAt: '2025-01-02T03:04:05.000Z',
      entries: [
        createEntry({ sourcePath: 'photo.heic', source: ['..', 'input_images', 'photo.heic'], sourceMimeType: 'image/heic' }),
        createEntry({ sourcePath: 'scan.heif', variant: 2, source: ['..', 'input_images', 'scan.heif'], sourceMimeType: 'image/heif' }),
        // A JPEG under a HEIC name: browsers read the bytes, so it is shown.
        createEntry({ sourcePath: 'lies.heic', variant: 3, source: ['..', 'input_images', 'lies.heic'], sourceMimeType: 'image/jpeg' }),
        // No record of its bytes: judged by its name.
        createEntry({ sourcePath: 'unknown.HEIC', variant: 4, source: ['..', 'input_images', 'unknown.HEIC'] }),
      ],
      failures: [],
    });
    const sources = listUrls(document).filter((url) => url.startsWith('../'));
    for (const name of ['photo.heic', 'scan.heif', 'unknown.HEIC']) {
      expect(document).not.toContain(`<img src="../input_images/${name}"`);
      expect(sources).toContain(`../input_images/${name}`);
    }
    expect(document).toContain('<img src="../input_images/lies.heic"');
    expect(document.match(/<a href="[^"]*" class="no-preview">HEI[CF]<br>no preview in a browser<\/a>/g)).toHaveLength(3);
  });

  it('says when it was made in words, with the exact time kept for machines', () => {
    const document = renderContactSheet({ title: 'sheet', generatedAt: '2025-01-02T03:04:05.000Z', entries: [createEntry()], failures: [] });
    expect(document).toContain('1 image, 0 failed · made <time datetime="2025-01-02T03:04:05.000Z">2 January 2025, 03:04 UTC</time>');
    expect(document).not.toMatch(/>[^<]*\d{4}-\d\d-\d\dT[^<]*</);
  });
});

describe('writeContactSheet', () => {
  let root: string;
  let workspaceDirectory: string;
  let inputDirectory: string;
  let outputDirectory: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'chargen-sheet-'));
    workspaceDirectory = join(root, 'project', '.chargen');
    inputDirectory = join(root, 'project', 'input images');
    outputDirectory = join(root, 'project', 'out', 'final characters');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const fingerprint = 'a'.repeat(64);

  async function writeImage(options: { sourcePath: string; variant: number; baseName: string; prompt: string; withSidecar: boolean }) {
    const source = createSamplePng(`source ${options.sourcePath}`);
    await mkdir(dirname(join(inputDirectory, options.sourcePath)), { recursive: true });
    await writeFile(join(inputDirectory, options.sourcePath), source);
    const image = createSamplePng(`image ${options.baseName}`, { width: 48, height: 64 });
    await mkdir(outputDirectory, { recursive: true });
    await writeFile(join(outputDirectory, `${options.baseName}.png`), image);
    const key = sha256(options.baseName);
    if (options.withSidecar) {
      await writeJsonAtomic(
        join(outputDirectory, `${options.baseName}.json`),
        imageSidecarSchema.parse({
          kind: 'chargen-image',
          version: 1,
          key,
          backend: 'emulator',
          image: { file: `${options.baseName}.png`, mimeType: 'image/png', width: 48, height: 64, bytes: image.length, sha256: sha256(image) },
          thoughtImages: [],
          source: { path: options.sourcePath, sha256: sha256(source), variant: options.variant },
          prompt: options.prompt,
          model: 'gemini-3-pro-image',
          imageConfig: { aspectRatio: '3:4', imageSize: '1K' },
          finishReason: 'STOP',
          textParts: [],
          warnings: ['asked for 3:4, got 48×64 & more'],
        }),
      );
    }
    return { sourcePath: options.sourcePath, variant: options.variant, key, image: `${options.baseName}.png`, sidecar: `${options.baseName}.json`, sourceSha256: sha256(source) };
  }

  it('writes nothing when there is no synthesize checkpoint', async () => {
    expect(await writeContactSheet({ workspaceDirectory, inputDirectory, outputDirectory, now: () => 0 })).toBeUndefined();
    await expect(stat(join(outputDirectory, 'index.html'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes the inputs that failed analysis, and what each source is by its bytes, from the analysis checkpoint', async () => {
    const photo = await writeImage({ sourcePath: 'photo.heic', variant: 1, baseName: 'photo', prompt: 'A photo.', withSidecar: true });
    const [record] = createAnalyzedImages(1);
    await writeAnalysisCheckpoint(workspaceDirectory, {
      fingerprint,
      records: [{ ...(record as AnalyzedImage), sourcePath: 'photo.heic', mimeType: 'image/heic' }],
      failures: [{ sourcePath: 'notes/broken.png', step: 'inspect', reason: 'not an image: <text>', fix: 'Replace it.', retryable: false }],
      warnings: [],
    });
    await writeSynthesizeCheckpoint(workspaceDirectory, { fingerprint, outputs: [photo].map(({ sourceSha256: _, ...output }) => output), failures: [], warnings: [] });
    await writeContactSheet({ workspaceDirectory, inputDirectory, outputDirectory, now: () => Date.UTC(2025, 0, 2) });
    const document = await readFile(join(outputDirectory, 'index.html'), 'utf8');
    expect(document).toContain('1 image, 1 failed');
    expect(document).toContain('<td><a href="../../input%20images/notes/broken.png">notes/broken.png</a></td><td>analyze</td><td>—</td><td class="reason">not an image: &lt;text&gt;</td>');
    expect(document).toContain('<a href="../../input%20images/photo.heic" class="no-preview">HEIC<br>no preview in a browser</a>');
    expect(document).not.toContain('<img src="../../input%20images/photo.heic"');
  });

  it('shows the first maxImages images of a large run, counts them all and points to chargen ui for the rest', async () => {
    const outputs = [];
    for (const name of ['bard', 'cleric', 'druid']) outputs.push(await writeImage({ sourcePath: `${name}.png`, variant: 1, baseName: name, prompt: `${name} prompt.`, withSidecar: true }));
    await writeSynthesizeCheckpoint(workspaceDirectory, { fingerprint, outputs: outputs.map(({ sourceSha256: _, ...output }) => output), failures: [], warnings: [] });
    const written = await writeContactSheet({ workspaceDirectory, inputDirectory, outputDirectory, now: () => Date.UTC(2025, 0, 2), maxImages: 2 });
    expect(written?.entries).toBe(2);
    const document = await readFile(join(outputDirectory, 'index.html'), 'utf8');
    expect(document).toContain('3 images, 0 failed');
    expect(document).toContain('<h2>Images (3; the first 2 here)</h2>');
    expect(document).toContain('… and 1 more image: `chargen ui` shows them all, a page at a time.');
    expect(document).toContain('bard prompt.');
    expect(document).toContain('cleric prompt.');
    expect(document).not.toContain('druid prompt.');
  });

  it("never writes over an index.html that chargen did not write", async () => {
    await writeImage({ sourcePath: 'bard.png', variant: 1, baseName: 'bard', prompt: 'Bard one.', withSidecar: true });
    await writeSynthesizeCheckpoint(workspaceDirectory, {
      fingerprint,
      outputs: [{ sourcePath: 'bard.png', variant: 1, key: 'c'.repeat(64), image: 'bard.png', sidecar: 'bard.json' }],
      failures: [],
      warnings: [],
    });
    const own = '<!doctype html><title>my site</title>';
    await writeFile(join(outputDirectory, 'index.html'), own);
    await expect(writeContactSheet({ workspaceDirectory, inputDirectory, outputDirectory, now: () => 0 })).rejects.toThrow(/index\.html is not a chargen contact sheet/);
    expect(await readFile(join(outputDirectory, 'index.html'), 'utf8')).toBe(own);
  });

  it('writes index.html whose links reach every image and source, in order, and rewrites it only when its content changes', async () => {
    const outputs = [
      await writeImage({ sourcePath: hostileSourcePath, variant: 1, baseName: 'heroes-Zoë-the-bold-1-100-x-y', prompt: hostilePrompt, withSidecar: true }),
      await writeImage({ sourcePath: 'bard.png', variant: 2, baseName: 'bard-2', prompt: 'Bard two, with a lone surrogate \ud800.', withSidecar: true }),
      await writeImage({ sourcePath: 'bard.png', variant: 1, baseName: 'bard', prompt: 'Bard one.', withSidecar: true }),
      // Its sidecar is gone: still listed, with the prompt compiled for it.
      await writeImage({ sourcePath: 'деревня/маг.png', variant: 1, baseName: 'деревня-маг', prompt: 'unused', withSidecar: false }),
    ];
    await writePromptsCheckpoint(workspaceDirectory, {
      fingerprint,
      prompts: [
        {
          key: 'b'.repeat(64),
          sourceImage: { path: 'деревня/маг.png', sha256: outputs[3]?.sourceSha256 as string, mimeType: 'image/png' },
          variant: 1,
          prompt: 'The compiled mage prompt.',
          model: 'gemini-3-pro-image',
          imageConfig: { aspectRatio: '2:3', imageSize: '2K' },
          useReferenceImage: true,
        },
      ],
    });
    await writeSynthesizeCheckpoint(workspaceDirectory, {
      fingerprint,
      outputs: outputs.map(({ sourceSha256: _, ...output }) => output),
      failures: [{ sourcePath: 'rogue #2.png', variant: 1, key: 'c', reason: 'blocked <SAFETY>', retryable: false, fix: 'change the prompt' }],
      warnings: [],
    });

    const written = await writeContactSheet({ workspaceDirectory, inputDirectory, outputDirectory, now: () => Date.UTC(2025, 0, 2) });
    expect(written).toEqual({ path: join(outputDirectory, 'index.html'), entries: 4 });
    const document = await readFile(join(outputDirectory, 'index.html'), 'utf8');
    expect(document).toContain('4 images, 1 failed · made <time datetime="2025-01-02T00:00:00.000Z">2 January 2025, 00:00 UTC</time>');
    expect(document).not.toMatch(/<script/i);
    expect(document).toContain('A knight &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(document).toContain('The compiled mage prompt.');
    expect(document).toContain('2:3, 2K');
    expect(document).toContain('asked for 3:4, got 48×64 &amp; more');
    expect(document).toContain('blocked &lt;SAFETY&gt;');

    const urls = listUrls(document);
    for (const output of outputs) {
      const imageHref = formatRelativeHref([output.image]);
      const sourceHref = formatRelativeHref(['..', '..', 'input images', ...output.sourcePath.split('/')]);
      expect(urls, output.image).toContain(imageHref);
      expect(urls, output.sourcePath).toContain(sourceHref);
      expect(resolveHref({ folder: outputDirectory, href: imageHref })).toBe(join(outputDirectory, output.image));
      expect(resolveHref({ folder: outputDirectory, href: sourceHref })).toBe(join(inputDirectory, output.sourcePath));
    }
    // Every link on the page leads to a file that is there, except the failed image's source, never written here.
    const missing = [];
    for (const url of new Set(urls)) {
      if (!(await stat(resolveHref({ folder: outputDirectory, href: url })).catch(() => undefined))) missing.push(url);
    }
    expect(missing).toEqual(['../../input%20images/rogue%20%232.png']);

    // By source path, then variant.
    const order = ['bard.png', 'bard-2.png', 'heroes-Zo%C3%AB-the-bold-1-100-x-y.png', '%D0%B4%D0%B5%D1%80%D0%B5%D0%B2%D0%BD%D1%8F-%D0%BC%D0%B0%D0%B3.png'].map((href) =>
      document.indexOf(`<img src="${href}"`),
    );
    expect(order.every((position) => position > 0)).toBe(true);
    expect([...order].sort((left, right) => left - right)).toEqual(order);

    // The same checkpoint later: the file is left exactly as it was, time included.
    const before = await stat(join(outputDirectory, 'index.html'));
    await writeContactSheet({ workspaceDirectory, inputDirectory, outputDirectory, now: () => Date.UTC(2026, 5, 6) });
    expect(await readFile(join(outputDirectory, 'index.html'), 'utf8')).toBe(document);
    expect((await stat(join(outputDirectory, 'index.html'))).mtimeMs).toBe(before.mtimeMs);

    // A changed checkpoint: written again, with the new time.
    await writeSynthesizeCheckpoint(workspaceDirectory, { fingerprint, outputs: outputs.slice(0, 1).map(({ sourceSha256: _, ...output }) => output), failures: [], warnings: [] });
    await writeContactSheet({ workspaceDirectory, inputDirectory, outputDirectory, now: () => Date.UTC(2026, 5, 6) });
    const rewritten = await readFile(join(outputDirectory, 'index.html'), 'utf8');
    expect(rewritten).toContain('1 image, 0 failed · made <time datetime="2026-06-06T00:00:00.000Z">6 June 2026, 00:00 UTC</time>');
    expect(rewritten).not.toContain('bard-2.png');
  });
});

describe('runPipeline and the contact sheet', () => {
  it('writes the sheet on a run that ends with dead letters, and only warns when it cannot write it', async () => {
    const emulator = await startTestEmulator({ latency: { pendingMilliseconds: 0, runningMilliseconds: 0 } });
    const project = await mkdtemp(join(tmpdir(), 'chargen-sheet-run-'));
    try {
      await cp(join(import.meta.dirname, '..', '..', 'input_images'), join(project, 'input_images'), { recursive: true });
      await writeFile(join(project, 'input_images', 'broken.png'), 'not a picture');
      const file = { path: join(project, 'chargen.config.json'), value: { compile: { imageConfig: { aspectRatio: '3:4', imageSize: '1K' } } } };
      await writeFile(file.path, JSON.stringify(file.value));
      const config = resolveConfig({ file, env: {}, flags: {} });
      const env = { GEMINI_API_KEY: 'dummy', CHARGEN_BASE_URL: emulator.baseUrl };
      const sheetPath = join(project, 'final_characters', 'index.html');

      const logger = createMemoryLogger();
      const first = await runPipeline({ cwd: project, env, logger, config, yes: true });
      expect(first.exitCode, first.message).toBe(3);
      expect(first.outputs).toHaveLength(6);
      const sheet = await readFile(sheetPath, 'utf8');
      for (const output of first.outputs) expect(sheet).toContain(`<img src="${formatRelativeHref([output.image.split('/').at(-1) as string])}"`);
      // The input that failed analysis is on the sheet with its reason, as the run's dead letters give it.
      const broken = first.deadLetter.find((letter) => letter.stage === 'analyze');
      expect(broken?.source).toMatch(/broken\.png$/);
      expect(sheet).toContain(`<td><a href="../input_images/broken.png">broken.png</a></td><td>analyze</td><td>—</td><td class="reason">${escapeHtml(broken?.reason ?? '')}</td>`);
      expect(logger.lines).toContainEqual({ stream: 'stderr', text: `contact sheet: ${join('final_characters', 'index.html')}` });

      // Something in the way of the sheet: the run still ends as it would have, with a warning naming the file.
      await rm(sheetPath);
      await mkdir(join(sheetPath, 'in-the-way'), { recursive: true });
      const blocked = createMemoryLogger();
      const second = await runPipeline({ cwd: project, env, logger: blocked, config, yes: true });
      expect(second.exitCode, second.message).toBe(3);
      expect(second.outputs).toHaveLength(6);
      expect(blocked.lines.filter((line) => line.text.includes('contact sheet'))).toEqual([
        { stream: 'stderr', text: expect.stringMatching(/^warning: could not write the contact sheet final_characters\/index\.html: \S/) },
      ]);
      // The write that failed at its rename left no temporary file behind.
      expect((await readdir(dirname(sheetPath))).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    } finally {
      await emulator.close();
      await rm(project, { recursive: true, force: true });
    }
  });
});
