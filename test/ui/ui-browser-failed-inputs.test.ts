import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargenBinary, runNodeProcess, startUiProcess, type ServingProcess } from '../support/chargen-process.ts';
import { isChromiumInstalled, launchChromium } from '../support/launch-chromium.ts';
import { buildHeif } from '../support/sample-heif.ts';

const root = join(import.meta.dirname, '..', '..');
const wait = { timeout: 30_000 };
const installed = await isChromiumInstalled();

// The page's own globals, typed just enough for the checks that run inside it (the project has no DOM typings).
declare const document: {
  querySelectorAll(selector: string): ArrayLike<{ complete: boolean; naturalWidth: number; getAttribute(name: string): string | null }>;
};

// ui-browser.test.ts says why the suite is skipped (or fails in CI) without Chromium.
describe.skipIf(!installed)('inputs that failed, and sources a browser cannot show, in headless Chromium', () => {
  let project: string;
  let ui: ServingProcess;
  let browser: Browser;
  let page: Page;
  const requested: string[] = [];

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-failed-inputs-'));
    await mkdir(join(project, 'input_images'));
    await cp(join(root, 'input_images', 'bard.png'), join(project, 'input_images', 'bard.png'));
    // A HEIC photo (analysed and drawn like any other, but no browser here can show it) and a file that is no image.
    await writeFile(join(project, 'input_images', 'photo.heic'), buildHeif({ majorBrand: 'heic', compatibleBrands: ['mif1', 'heic'], extents: [{ width: 1024, height: 768 }], primaryPropertyIndex: 1 }));
    await writeFile(join(project, 'input_images', 'broken.png'), 'this is not a picture');
    // The built-in emulator, answering at once: the workspace is all the UI needs afterwards.
    const env = { ...process.env, GEMINI_API_KEY: '', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: '' };
    const run = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--mode', 'sync', '--yes'], env });
    expect(run.code, run.stderr).toBe(3);
    ui = await startUiProcess({ cwd: project, env });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    page.on('request', (request) => requested.push(new URL(request.url()).pathname));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    const code = await ui?.stop();
    await rm(project, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('shows the input that failed analysis as a failed tile with its reason, and a placeholder where its source cannot be shown', async () => {
    await page.goto(`${ui.url}#gallery`);
    await page.waitForFunction(() => document.querySelectorAll('.card').length === 3, undefined, wait);
    const broken = page.locator('.card[data-status="failed"]');
    expect(await broken.count()).toBe(1);
    expect(await broken.locator('.caption').textContent()).toContain('broken.png');
    expect(await broken.locator('.reason').textContent()).toMatch(/\S/);
    // Its bytes are no image: the tile says so instead of showing a broken image.
    await broken.locator('.no-preview').waitFor(wait);
    expect(await broken.locator('img').count()).toBe(0);

    await page.click('.filter[data-status="failed"]');
    await page.waitForFunction(() => document.querySelectorAll('.card').length === 1, undefined, wait);
    await page.click('.filter[data-status=""]');
    await page.waitForFunction(() => document.querySelectorAll('.card').length === 3, undefined, wait);
  });

  it('never asks for a HEIC source, and shows a placeholder beside the image made from it', async () => {
    const photo = page.locator('.card', { hasText: 'photo.heic' });
    const id = await photo.getAttribute('data-id');
    // Done: the tile shows the generated image, which any browser can show.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.card img')).every((image) => image.complete && image.naturalWidth > 0), undefined, wait);
    await photo.click();
    await page.locator('#detail[open]').waitFor(wait);
    expect(await page.locator('#detail-source').isHidden()).toBe(true);
    expect(await page.locator('#detail-source-placeholder').textContent()).toContain('HEIC');
    await page.keyboard.press('Escape');
    expect(requested).toContain(`/media/output/${id}`);
    expect(requested).not.toContain(`/media/source/${id}`);
  });

  it('lists the failed input on the contact sheet, shows every image it can, a placeholder for the HEIC, and a readable date', async () => {
    await page.goto(pathToFileURL(join(project, 'final_characters', 'index.html')).href);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('img')).every((image) => image.complete), undefined, wait);
    const images = await page.evaluate(() => Array.from(document.querySelectorAll('img')).map((image) => ({ src: image.getAttribute('src'), width: image.naturalWidth })));
    expect(images.map((image) => image.src).sort()).toEqual(['../input_images/bard.png', 'bard.jpg', 'photo.jpg']);
    for (const image of images) expect(image.width, image.src ?? '').toBeGreaterThan(0);
    expect(await page.locator('.no-preview').textContent()).toContain('HEIC');
    expect(await page.locator('#failures tbody tr').allTextContents()).toEqual([expect.stringMatching(/^broken\.pnganalyze—\S.*no/)]);
    expect(await page.locator('.counts time').textContent()).toMatch(/^\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d UTC$/);
  });
});
