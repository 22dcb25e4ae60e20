import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodeProcess, chargenBinary, startEmulatorProcess, startUiProcess, type EmulatorProcess, type ServingProcess } from '../support/chargen-process.ts';
import { chromiumPath, isChromiumInstalled, launchChromium, openNotifyingPage } from '../support/launch-chromium.ts';

const root = join(import.meta.dirname, '..', '..');
/** Screenshots go to docs/ (for the README) when asked, else to the test's own folder. */
const updateScreenshots = process.env['UPDATE_SCREENSHOTS'] === '1';
const apiKey = 'browser-regenerate-key-5c1d09e7';
const wait = { timeout: 60_000 };
const installed = await isChromiumInstalled();
const editedPrompt = 'A knight in green enamelled armour, standing in the rain, full figure.';

declare const document: { title: string };

if (!installed && process.env['CI']) throw new Error(`The browser suite needs Chromium at ${chromiumPath}: .ci/run installs it with apt-get (or set CHROMIUM_PATH).`);

/**
 * The artist's loop in headless Chromium against `chargen ui` and `chargen emulator` processes (the real SDK over
 * HTTP): edit a prompt, queue two images, submit them as one batch job, see it run and the new versions appear,
 * choose one, and find it in final_characters/; then "Run now", whose full price the page says before sending.
 */
describe.skipIf(!installed)('chargen ui: regenerate, queue, submit, compare and choose, in headless Chromium', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let ui: ServingProcess;
  let browser: Browser;
  let page: Page;

  const confirm = async (expected: RegExp) => {
    await page.locator('#confirm[open]').waitFor(wait);
    expect(await page.locator('#confirm-body').textContent()).toMatch(expected);
    await page.click('#confirm-yes');
    await page.locator('#confirm').waitFor({ ...wait, state: 'hidden' });
  };
  const openImage = async (source: string) => {
    await page.click('#nav-gallery');
    await page.locator(`.card[data-status="done"]:has-text("${source}")`).click();
    await page.locator('#detail[open]').waitFor(wait);
    await page.locator('#regenerate-box summary').click();
  };
  const closeImage = async () => {
    await page.keyboard.press('Escape');
    await page.locator('#detail').waitFor({ ...wait, state: 'hidden' });
  };

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-browser-regenerate-'));
    for (const name of ['bard.png', 'knight.png']) await cp(join(root, 'input_images', name), join(project, 'input_images', name));
    // Short polls: the emulator's jobs take 20 ms, and nothing waits on a 15 s first poll.
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ compile: { imageConfig: { aspectRatio: '3:4', imageSize: '1K' } }, gemini: { pollInitialMilliseconds: 100, pollMaxMilliseconds: 500 } }));
    emulator = await startEmulatorProcess({ pendingMilliseconds: 20, runningMilliseconds: 20 });
    const env = { ...process.env, GEMINI_API_KEY: apiKey, GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl, CHARGEN_CONFIRM_ABOVE_USD: '100' };
    const run = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--yes'], env });
    expect(run.code, run.stderr).toBe(0);
    ui = await startUiProcess({ cwd: project, env });
    browser = await launchChromium();
    page = await openNotifyingPage(browser, { url: ui.url, viewport: { width: 1280, height: 900 } });
    await page.goto(ui.url);
    await page.locator('#connection:text-is("live")').waitFor(wait);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    const code = await ui?.stop();
    await emulator?.stop();
    await rm(project, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('edits a prompt, queues two images with their costs, and submits them as one batch job that runs on the emulator', async () => {
    await openImage('knight.png');
    await page.fill('#regenerate-prompt', editedPrompt);
    await page.click('#regenerate-add');
    await page.locator('#regenerate-note:has-text("Added as #1")').waitFor(wait);
    expect(await page.locator('#regenerate-note').textContent()).toMatch(/prompt edited; \$0\.\d+ in a batch\)\. 1 queued/);
    await closeImage();

    await openImage('bard.png');
    await page.fill('#regenerate-seed', '4242');
    await page.click('#regenerate-add');
    await page.locator('#regenerate-note:has-text("Added as #2")').waitFor(wait);
    await closeImage();

    await page.click('#nav-queue');
    await page.locator('#regen-items tr[data-status="queued"] >> nth=1').waitFor(wait);
    const rows = await page.locator('#regen-items tbody tr').allTextContents();
    expect(rows[0]).toMatch(/knight\.png.*prompt edited.*\$0\.\d+ in a batch, \$0\.\d+ now/);
    expect(rows[1]).toMatch(/bard\.png.*seed 4242/);
    await page.click('#regen-submit');
    await confirm(/Submit batch \(2, \$0\.\d+\)/);

    await page.locator('tr[data-job*="-regenerate-"]:has([data-state="JOB_STATE_SUCCEEDED"])').waitFor(wait);
    await page.locator('#regen-items tr[data-status="done"] >> nth=1').waitFor(wait);
    await page.screenshot({ path: join(updateScreenshots ? join(root, 'docs') : project, 'ui-regenerate-queue.png') });
    await page.waitForFunction(() => document.title.startsWith('✓'), undefined, wait);
    const shown = (await page.evaluate('window.shownNotifications')) as string[];
    expect(shown.join('\n')).toMatch(/regenerate: 2 of 2 images made \(batch \d+\)/);
  }, 60_000);

  it('shows the new version beside the old one, and the chosen one is what final_characters/ holds', async () => {
    await openImage('knight.png');
    await page.locator('.version >> nth=1').waitFor(wait);
    expect(await page.locator('.version').evaluateAll((cards) => cards.map((card) => card.getAttribute('data-label')))).toEqual([
      expect.stringMatching(/^v1 · made by chargen run/),
      expect.stringMatching(/^v2 · prompt edited/),
    ]);
    // Side by side they are thumbnails (a click opens the full image), decoded as images.
    expect(await page.locator('.version img').evaluateAll((images) => images.map((image) => image.getAttribute('src')))).toEqual([expect.stringMatching(/^\/media\/version-thumbnail\/\d+$/), expect.stringMatching(/^\/media\/version-thumbnail\/\d+$/)]);
    await page.locator('.version[data-label^="v2"] [data-choose]').click();
    await confirm(/copied into the output folder with its sidecar/);
    await page.locator('.version.chosen[data-label^="v2"]').waitFor(wait);
    await page.locator('#regenerate-box summary').click();
    await page.evaluate('Promise.all(Array.from(document.querySelectorAll(".version img")).map((image) => image.decode()))');
    await page.locator('#detail').screenshot({ path: join(updateScreenshots ? join(root, 'docs') : project, 'ui-versions.png') });

    const chosen = await readFile(join(project, 'final_characters', 'knight.jpg'));
    expect(chosen).toEqual(await readFile(join(project, '.chargen', 'versions', 'knight-v2.jpg')));
    const sidecar = JSON.parse(await readFile(join(project, 'final_characters', 'knight.json'), 'utf8')) as { prompt: string };
    expect(sidecar.prompt).toBe(editedPrompt);
    // The run's own image is kept in the workspace, as version 1.
    expect(await readFile(join(project, '.chargen', 'versions', 'knight-v1.jpg'))).not.toEqual(chosen);
    await closeImage();
  }, 60_000);

  it('says the full price of "Run now" before sending it, then makes the image at once', async () => {
    await openImage('bard.png');
    await page.selectOption('#regenerate-aspect', '1:1');
    await page.click('#regenerate-add');
    await page.locator('#regenerate-note:has-text("Added as #3")').waitFor(wait);
    await closeImage();
    await page.click('#nav-queue');
    await page.locator('#regen-items tr[data-item="3"] [data-run-now]').click();
    await confirm(/at the interactive price: \$0\.\d+ \(\$0\.\d+ in a batch\)/);
    await page.locator('#regen-items tr[data-item="3"][data-status="done"]').waitFor(wait);
    expect(await page.locator('#regen-items tr[data-item="3"]').textContent()).toContain('aspect ratio 1:1');
  }, 60_000);
});
