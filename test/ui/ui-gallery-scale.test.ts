import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUiServer, type RunningUi } from '../../pipeline/cli/ui-command.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { createMemoryLogger } from '../../lib/logger.ts';
import { openWorkspace } from '../../lib/store/open-workspace.ts';
import { writeSynthesizeCheckpoint } from '../../stages/synthesize/synthesize-checkpoint.ts';
import { isChromiumInstalled, launchChromium } from '../support/launch-chromium.ts';
import { createSamplePng } from '../support/sample-images.ts';

const imageCount = 1_000;
const pageSize = 60;
const wait = { timeout: 30_000 };

// The page's own globals, typed just enough for the checks that run inside it (the project has no DOM typings).
declare const document: { querySelectorAll(selector: string): { length: number }; body: { scrollHeight: number } };
declare const window: { scrollTo(x: number, y: number): void };

describe.skipIf(!(await isChromiumInstalled()))('the gallery with a thousand images', () => {
  let project: string;
  let ui: RunningUi;
  let browser: Browser;

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-gallery-'));
    const output = join(project, 'final_characters');
    await mkdir(output, { recursive: true });
    await mkdir(join(project, 'input_images'), { recursive: true });
    const image = createSamplePng('gallery');
    const outputs = [];
    for (let index = 0; index < imageCount; index += 1) {
      const stem = `hero-${String(index).padStart(4, '0')}`;
      await writeFile(join(output, `${stem}.png`), image);
      await writeFile(join(project, 'input_images', `${stem}.png`), image);
      outputs.push({ sourcePath: `${stem}.png`, variant: 1, key: index.toString(16).padStart(64, '0'), image: `${stem}.png`, sidecar: `${stem}.json` });
    }
    const workspaceDirectory = join(project, '.chargen');
    await openWorkspace({ directory: workspaceDirectory, now: Date.now });
    await writeSynthesizeCheckpoint(workspaceDirectory, { fingerprint: 'f'.repeat(64), outputs, failures: [], warnings: [] });
    ui = await startUiServer({ cwd: project, env: {}, config: resolveConfig({ env: {}, flags: {} }), logger: createMemoryLogger(), port: 0, refreshMilliseconds: 200 });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.close();
    await rm(project, { recursive: true, force: true });
  });

  it('loads one page of tiles and their images at first, and more as the page scrolls', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const imageRequests = new Set<string>();
    page.on('request', (request) => {
      if (request.url().includes('/media/')) imageRequests.add(request.url());
    });
    await page.goto(`${ui.url}#gallery`);
    await page.locator('#gallery-count:text-is("(1000)")').waitFor(wait);
    await page.waitForFunction(() => document.querySelectorAll('.card').length >= 60, undefined, wait);
    await page.waitForLoadState('networkidle');
    const firstCards = await page.locator('.card').count();
    expect(firstCards).toBeLessThanOrEqual(3 * pageSize);
    // Lazy images: only those near the window are asked for, not one per tile loaded, let alone a thousand.
    expect(imageRequests.size).toBeGreaterThan(0);
    expect(imageRequests.size).toBeLessThanOrEqual(firstCards);

    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.waitForFunction((count) => document.querySelectorAll('.card').length > count, firstCards, wait);
    const moreCards = await page.locator('.card').count();
    expect(moreCards).toBeLessThan(imageCount);
    expect(new Set(await page.locator('.card').evaluateAll((cards) => cards.map((card) => (card as unknown as { dataset: { id: string } }).dataset.id))).size).toBe(moreCards);
    await page.close();
  });
});
