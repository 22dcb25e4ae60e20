import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { startUiServer, type RunningUi } from '../../pipeline/cli/ui-command.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { createMemoryLogger } from '../../lib/logger.ts';
import { openWorkspace } from '../../lib/store/open-workspace.ts';
import { writeSynthesizeCheckpoint } from '../../stages/synthesize/synthesize-checkpoint.ts';
import { isChromiumInstalled, launchChromium } from '../support/launch-chromium.ts';
import { createOutputLikeJpeg } from '../support/sample-images.ts';
import { formatAttachment } from '../../pipeline/ui/send-download.ts';

const imageCount = 200;
const wait = { timeout: 60_000 };
const keyOf = (index: number) => index.toString(16).padStart(64, '0');
const stemOf = (index: number) => `hero-${String(index).padStart(3, '0')}`;

// The page's own globals, typed just enough for the checks that run inside it (the project has no DOM typings).
declare const document: { querySelectorAll(selector: string): ArrayLike<{ complete: boolean; naturalWidth: number }> };

/** The names in a zip, read with yauzl (the reader of yazl's author) from its central directory. */
function listZipEntries(bytes: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (error, zip) => {
      if (error) return reject(error);
      const names: string[] = [];
      zip.on('entry', (entry: { fileName: string }) => {
        names.push(entry.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolve(names));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe.skipIf(!(await isChromiumInstalled()))('the gallery shows thumbnails; images, characters and the output folder download', () => {
  let project: string;
  let output: string;
  let ui: RunningUi;
  let browser: Browser;

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-thumbnails-'));
    output = join(project, 'final_characters');
    await mkdir(output, { recursive: true });
    await mkdir(join(project, 'input_images'), { recursive: true });
    const images = await Promise.all([0, 1, 2, 3].map(createOutputLikeJpeg));
    const outputs = [];
    for (let index = 0; index < imageCount; index += 1) {
      // Two shots of each character: a character's zip holds both, and their sidecars.
      const character = Math.floor(index / 2);
      const stem = `${stemOf(character)}-${index % 2 === 0 ? 'portrait' : 'action'}`;
      await writeFile(join(output, `${stem}.jpg`), images[index % images.length] as Buffer);
      await writeFile(join(output, `${stem}.json`), JSON.stringify({ index }));
      outputs.push({ sourcePath: `${stemOf(character)}.png`, variant: (index % 2) + 1, key: keyOf(index), image: `${stem}.jpg`, sidecar: `${stem}.json` });
    }
    const workspaceDirectory = join(project, '.chargen');
    await openWorkspace({ directory: workspaceDirectory, now: Date.now });
    await writeSynthesizeCheckpoint(workspaceDirectory, { fingerprint: 'f'.repeat(64), outputs, failures: [], warnings: [] });
    ui = await startUiServer({ cwd: project, env: {}, config: resolveConfig({ env: {}, flags: {} }), logger: createMemoryLogger(), port: 0, refreshMilliseconds: 200 });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.close();
    await rm(project, { recursive: true, force: true });
  });

  it('a 200-image gallery fetches one small WebP per tile, never a full image, and the full image only in the detail view', async () => {
    // Tall enough for every tile to be near the window: all 200 lazy images load.
    const page = await browser.newPage({ viewport: { width: 1280, height: 30_000 } });
    const fetched = new Map<string, number>();
    const reading: Promise<void>[] = [];
    page.on('response', (response) => {
      if (!response.url().includes('/media/')) return;
      const path = new URL(response.url()).pathname;
      fetched.set(path, 0);
      reading.push(response.body().then((body) => void fetched.set(path, body.length), () => undefined));
    });
    await page.goto(`${ui.url}#gallery`);
    await page.waitForFunction((count) => document.querySelectorAll('.card img').length >= count, imageCount, wait);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.card img')).every((image) => image.complete && image.naturalWidth > 0), undefined, wait);
    await page.waitForLoadState('networkidle');
    await Promise.all(reading);
    const thumbnails = [...fetched].filter(([path]) => path.startsWith('/media/thumbnail/output/'));
    expect(thumbnails).toHaveLength(imageCount);
    expect([...fetched.keys()].filter((path) => path.startsWith('/media/output/'))).toEqual([]);
    const thumbnailBytes = thumbnails.reduce((sum, [, bytes]) => sum + bytes, 0);
    let fullBytes = 0;
    for (const name of await readdir(output)) if (name.endsWith('.jpg')) fullBytes += (await readFile(join(output, name))).length;
    // Each thumbnail is a WebP no larger than 320 px: a small fraction of the full images' bytes.
    expect(thumbnailBytes).toBeLessThan(fullBytes / 10);
    const firstThumbnail = await fetch(new URL(thumbnails[0]?.[0] ?? '', ui.url));
    expect(firstThumbnail.headers.get('content-type')).toBe('image/webp');
    const size = await sharp(Buffer.from(await firstThumbnail.arrayBuffer())).metadata();
    expect(Math.max(size.width ?? 0, size.height ?? 0)).toBeLessThanOrEqual(320);

    await page.locator('.card').first().click();
    await page.locator('#detail[open]').waitFor(wait);
    await page.waitForFunction(() => (document.querySelectorAll('#detail-image')[0]?.naturalWidth ?? 0) > 0, undefined, wait);
    await page.waitForLoadState('networkidle');
    expect([...fetched.keys()].filter((path) => path.startsWith('/media/output/'))).toHaveLength(1);
    expect(await page.locator('#detail-download').getAttribute('href')).toMatch(/^\/download\/output\/[0-9a-f]{64}$/);
    await page.close();
  }, 120_000);

  it('a thumbnail is made once and kept: asked again with its etag it is a 304, and the workspace holds one file per image', async () => {
    const url = new URL(`/media/thumbnail/output/${keyOf(0)}`, ui.url);
    const first = await fetch(url);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag') ?? '';
    expect(etag).not.toBe('');
    expect((await fetch(url, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const kept = await readdir(join(project, '.chargen', 'thumbnails'));
    expect(kept.filter((name) => name.endsWith('.webp')).length).toBe(imageCount);
  });

  it('downloads one image as an attachment, a character as a zip of its shots and sidecars, and the output folder as a zip', async () => {
    const image = await fetch(new URL(`/download/output/${keyOf(3)}`, ui.url));
    expect(image.headers.get('content-disposition')).toContain('attachment; filename="hero-001-action.jpg"');
    expect(Buffer.from(await image.arrayBuffer()).equals(await readFile(join(output, 'hero-001-action.jpg')))).toBe(true);

    const character = await fetch(new URL(`/download/character/${keyOf(3)}`, ui.url));
    expect(character.headers.get('content-disposition')).toContain('filename="hero-001.zip"');
    expect((await listZipEntries(Buffer.from(await character.arrayBuffer()))).sort()).toEqual(['hero-001-action.jpg', 'hero-001-action.json', 'hero-001-portrait.jpg', 'hero-001-portrait.json']);

    const chosen = await fetch(new URL('/download/output-folder', ui.url));
    expect(chosen.headers.get('content-disposition')).toContain('filename="final_characters.zip"');
    expect(await listZipEntries(Buffer.from(await chosen.arrayBuffer()))).toHaveLength(2 * imageCount);

    expect((await fetch(new URL(`/download/output/${'e'.repeat(64)}`, ui.url))).status).toBe(404);
    // An image gone from the folder is a 404 the browser shows, not a file saved under the image's name.
    await rm(join(output, 'hero-002-portrait.jpg'));
    const gone = await fetch(new URL(`/download/output/${keyOf(4)}`, ui.url));
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-disposition')).toBeNull();
  });

  it('names a download for any browser: ASCII in filename, the exact name in filename* (RFC 5987)', () => {
    expect(formatAttachment('O\'Neil (1)*.zip')).toBe(`attachment; filename="O'Neil (1)*.zip"; filename*=UTF-8''O%27Neil%20%281%29%2A.zip`);
    expect(formatAttachment('héros "final".jpg')).toBe(`attachment; filename="h_ros _final_.jpg"; filename*=UTF-8''h%C3%A9ros%20%22final%22.jpg`);
  });
});
