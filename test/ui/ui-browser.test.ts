import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editCheckpointItem } from '../support/edit-checkpoint-item.ts';
import { runNodeProcess, chargenBinary, startEmulatorProcess, startUiProcess, type EmulatorProcess, type ServingProcess } from '../support/chargen-process.ts';
import { createEmulatorAdmin } from '../support/emulator-admin.ts';
import { chromiumPath, isChromiumInstalled, launchChromium, openNotifyingPage } from '../support/launch-chromium.ts';

const root = join(import.meta.dirname, '..', '..');
/** Screenshots go to docs/ (shown in the README) when asked, else to the test's own folder. */
const updateScreenshots = process.env['UPDATE_SCREENSHOTS'] === '1';
const apiKey = 'browser-test-key-2b8e41c07a';
const wait = { timeout: 30_000 };
const installed = await isChromiumInstalled();

// The page's own globals, typed just enough for the checks that run inside it (the project has no DOM typings).
declare const document: {
  title: string;
  querySelectorAll(selector: string): ArrayLike<{ complete: boolean; naturalWidth: number; decode(): Promise<void> }>;
  getElementById(id: string): { naturalWidth: number } | null;
};

if (!installed && process.env['CI']) {
  throw new Error(`The browser suite needs Chromium at ${chromiumPath}: .ci/run installs it with apt-get (or set CHROMIUM_PATH).`);
}
if (!installed) console.warn(`Skipping the browser suite: no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH).`);

describe.skipIf(!installed)('chargen ui in headless Chromium, on a workspace from a real run on the emulator', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let ui: ServingProcess;
  let browser: Browser;
  let page: Page;
  let screenshots: string;

  const jobRow = (stage: string, state: string) => page.locator(`tr[data-job*="-${stage}-"]:has([data-state="${state}"])`);
  const confirm = async (expected: RegExp) => {
    await page.locator('#confirm[open]').waitFor(wait);
    expect(await page.locator('#confirm-body').textContent()).toMatch(expected);
    await page.click('#confirm-yes');
    await page.locator('#confirm[open]').waitFor({ ...wait, state: 'detached' }).catch(() => page.locator('#confirm').waitFor({ ...wait, state: 'hidden' }));
  };

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-browser-'));
    screenshots = updateScreenshots ? join(root, 'docs') : project;
    await cp(join(root, 'input_images'), join(project, 'input_images'), { recursive: true });
    // A file that is no image: a dead letter of analyze that trying again cannot mend.
    await writeFile(join(project, 'input_images', 'broken.png'), 'this is not a picture');
    // One round per run: a cancelled job's lines become dead letters that "retry these" sends again.
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ compile: { imageConfig: { aspectRatio: '3:4', imageSize: '1K' } }, gemini: { maxRounds: 1 } }));
    emulator = await startEmulatorProcess({ pendingMilliseconds: 600_000, runningMilliseconds: 1_000 });
    const env = { ...process.env, GEMINI_API_KEY: apiKey, GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl, CHARGEN_CONFIRM_ABOVE_USD: '100' };
    const detached = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--detach', '--yes'], env });
    expect(detached.code, detached.stderr).toBe(4);
    ui = await startUiProcess({ cwd: project, env });
    browser = await launchChromium();
    page = await openNotifyingPage(browser, { url: ui.url, viewport: { width: 1280, height: 860 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    const code = await ui?.stop();
    await emulator?.stop();
    await rm(project, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('shows the pending job, and updates the row, the title and a notification when it finishes', async () => {
    await page.goto(ui.url);
    await jobRow('analyze', 'JOB_STATE_PENDING').waitFor(wait);
    expect(await page.locator('[data-stage="analyze"] .badge').textContent()).toBe('running');
    expect(await page.locator('#connection').textContent()).toBe('live');
    expect(await jobRow('analyze', 'JOB_STATE_PENDING').locator('td').nth(3).textContent()).toContain('6 pending');

    await createEmulatorAdmin(emulator.baseUrl).advanceClock(601_000);
    await jobRow('analyze', 'JOB_STATE_SUCCEEDED').waitFor(wait);
    await page.waitForFunction(() => document.title.startsWith('✓'), undefined, wait);
    const shown = (await page.evaluate('window.shownNotifications')) as string[];
    expect(shown.join('\n')).toMatch(/batches\/\S+: SUCCEEDED/);
  });

  it('runs from the page after showing the plan, and cancels a job; its lines become dead letters', async () => {
    await page.click('#run-all');
    await confirm(/analyze: .*\n.*synthesize: /s);
    await jobRow('synthesize', 'JOB_STATE_PENDING').waitFor(wait);
    await jobRow('synthesize', 'JOB_STATE_PENDING').locator('button[data-cancel]').click();
    await confirm(/not charged/);
    await jobRow('synthesize', 'JOB_STATE_CANCELLED').waitFor(wait);

    await page.locator('#retry-dead:has-text("Retry these (6 retryable)")').waitFor(wait);
    const deadLetters = await page.locator('#dead-letters tbody tr').allTextContents();
    expect(deadLetters).toHaveLength(7);
    expect(deadLetters.find((row) => row.includes('broken.png'))).toMatch(/analyze.*broken\.png.*no$/);
    expect(deadLetters.filter((row) => /CANCELLED/.test(row) && /yes$/.test(row))).toHaveLength(6);
  });

  it('retries the dead letters that can be retried, and the jobs survive a reload', async () => {
    await page.click('#retry-dead');
    await confirm(/synthesize: 6 items, 0 done or cached, 6 to send/);
    await page.waitForFunction(() => document.querySelectorAll('tr[data-job*="-synthesize-"]').length === 2, undefined, wait);
    // Created and seen pending (not just recorded) before the emulator's clock moves past its wait.
    await jobRow('synthesize', 'JOB_STATE_PENDING').waitFor(wait);
    await createEmulatorAdmin(emulator.baseUrl).advanceClock(601_000);
    await page.locator('[data-stage="synthesize"] .badge:text-is("done")').waitFor(wait);
    await page.locator('#dead-count:text-is("(1)")').waitFor(wait);

    await page.reload();
    await jobRow('synthesize', 'JOB_STATE_SUCCEEDED').waitFor(wait);
    expect(await page.locator('tr[data-job]').count()).toBe(3);
    expect(await jobRow('synthesize', 'JOB_STATE_CANCELLED').count()).toBe(1);
    await page.screenshot({ path: join(screenshots, 'ui-queue.png'), fullPage: true });
  });

  it('renders the gallery, filters it, and shows an image beside its source, analysis and prompt', async () => {
    await page.click('#nav-gallery');
    await page.waitForFunction(() => document.querySelectorAll('.card[data-status="done"]').length === 6, undefined, wait);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.card img')).every((image) => image.complete && image.naturalWidth > 0), undefined, wait);
    // Loaded is not yet painted: an async-decoded image can still be blank in a screenshot taken now.
    await page.evaluate(() => Promise.all(Array.from(document.querySelectorAll('.card img')).map((image) => image.decode())));
    await page.screenshot({ path: join(screenshots, 'ui-gallery.png'), fullPage: true });

    // The input analysis refused is a failed tile of its own, with its reason.
    await page.click('.filter[data-status="failed"]');
    await page.waitForFunction(() => document.querySelectorAll('.card').length === 1, undefined, wait);
    expect(await page.locator('.card[data-status="failed"] .caption').textContent()).toContain('broken.png');
    expect(await page.locator('.card[data-status="failed"] .reason').textContent()).toMatch(/^analysis: \S/);
    await page.click('.filter[data-status=""]');
    await page.waitForFunction(() => document.querySelectorAll('.card').length === 7, undefined, wait);

    await page.click('.card[data-status="done"] >> nth=2');
    await page.locator('#detail[open]').waitFor(wait);
    await page.waitForFunction(() => ['detail-image', 'detail-source'].every((id) => (document.getElementById(id)?.naturalWidth ?? 0) > 0), undefined, wait);
    const sidecar = JSON.parse(await readFile(join(project, 'final_characters', 'knight.json'), 'utf8')) as { prompt: string; analysis: { archetype: string } };
    expect(await page.locator('#detail-title').textContent()).toBe('knight.png');
    expect(await page.locator('#detail-prompt').textContent()).toBe(sidecar.prompt);
    expect(await page.locator('#detail-analysis').textContent()).toContain(sidecar.analysis.archetype);
    await page.screenshot({ path: join(screenshots, 'ui-detail.png') });
    await page.keyboard.press('Escape');
    expect((await stat(join(screenshots, 'ui-gallery.png'))).size).toBeGreaterThan(10_000);
  });

  it('shows a clear problem, not a blank page, when a checkpoint goes bad, and recovers when it is mended', async () => {
    await page.click('#nav-queue');
    const restore = editCheckpointItem(join(project, '.chargen', 'checkpoints.sqlite'), { stage: 'analyze', kind: 'record', edit: (value) => (value['width'] = 'wide') });
    await page.locator('#problem').waitFor({ ...wait, state: 'visible' });
    const message = await page.locator('#problem-message').textContent();
    expect(message).toContain('checkpoints.sqlite');
    expect(message).toContain('chargen run --from analyze');
    restore();
    await page.locator('#problem').waitFor({ ...wait, state: 'hidden' });
    expect(ui.stderr.join('\n')).not.toContain(apiKey);
  });
});
