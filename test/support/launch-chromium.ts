import { access } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); CHROMIUM_PATH points elsewhere. Playwright's own download is not used. */
export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export async function isChromiumInstalled(): Promise<boolean> {
  return access(chromiumPath).then(
    () => true,
    () => false,
  );
}

/**
 * Headless Chromium with nothing of its own reaching out: on a closed network its background connections are refused
 * by the dozen and slow every start.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A page of a new context that may show notifications, and records what the page asks the browser to notify in
 * `window.shownNotifications` (headless Chromium shows nothing).
 */
export async function openNotifyingPage(browser: Browser, options: { url: string; viewport: { width: number; height: number } }): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport });
  await context.grantPermissions(['notifications'], { origin: new URL(options.url).origin });
  await context.addInitScript(`
    window.shownNotifications = [];
    window.Notification = class extends window.Notification {
      constructor(title, options) {
        super(title, options);
        window.shownNotifications.push(options?.body ?? title);
      }
    };
  `);
  return context.newPage();
}
