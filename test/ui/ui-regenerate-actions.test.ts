import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../lib/logger.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { runPipeline } from '../../pipeline/run-pipeline.ts';
import { startUiServer, type RunningUi } from '../../pipeline/cli/ui-command.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';
import { acquireWorkspaceLock } from '../../lib/store/workspace-lock.ts';

interface RegenerateView {
  items: { id: number; status: string; cost: { batchUsd: number } }[];
  batches: { id: number; status: string; message?: string }[];
  autoSubmitAt?: number;
  sending: boolean;
  last?: string;
}

async function readView(ui: RunningUi): Promise<RegenerateView> {
  return (await (await fetch(new URL('/api/regenerate', ui.url))).json()) as RegenerateView;
}

/** Asks until `accept` holds (the page's batch runs in the background); fails with the last view after about 15 s. */
async function waitForView(ui: RunningUi, accept: (view: RegenerateView) => boolean): Promise<RegenerateView> {
  let last: RegenerateView | undefined;
  for (let attempt = 0; attempt < 300; attempt += 1) {
    last = await readView(ui);
    if (accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting; last: ${JSON.stringify(last)}`);
}

const root = join(import.meta.dirname, '..', '..');

async function post(ui: RunningUi, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: { error?: { message: string } } & Record<string, unknown> }> {
  const response = await fetch(new URL(path, ui.url), { method: 'POST', headers: { 'content-type': 'application/json', origin: new URL(ui.url).origin, ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as { error?: { message: string } } & Record<string, unknown> };
}

/** The artist's actions over HTTP: only from the page's own origin, and bad input refused in one line naming the field. */
describe('chargen ui: the regenerate actions', () => {
  let emulator: TestEmulator;
  let project: string;
  let config: ChargenConfig;
  let ui: RunningUi;
  const logger = createMemoryLogger();

  beforeAll(async () => {
    emulator = await startTestEmulator({ latency: { pendingMilliseconds: 0, runningMilliseconds: 0 } });
    project = await mkdtemp(join(tmpdir(), 'chargen-ui-regenerate-'));
    await cp(join(root, 'input_images', 'knight.png'), join(project, 'input_images', 'knight.png'));
    // Short polls: the page's batches wait on the emulator's jobs, whose first look would otherwise come after 15 s.
    const file = { path: join(project, 'chargen.config.json'), value: { compile: { imageConfig: { aspectRatio: '3:4', imageSize: '1K' } }, gemini: { pollInitialMilliseconds: 50, pollMaxMilliseconds: 200 } } };
    await writeFile(file.path, JSON.stringify(file.value));
    config = resolveConfig({ file, env: {}, flags: {} });
    const env = { GEMINI_API_KEY: 'ui-regenerate-key-0b7e', CHARGEN_BASE_URL: emulator.baseUrl };
    const summary = await runPipeline({ cwd: project, env, logger, config, yes: true });
    expect(summary.exitCode, summary.message).toBe(0);
    ui = await startUiServer({ cwd: project, env, config, logger, port: 0, refreshMilliseconds: 50 });
  });
  afterAll(async () => {
    await ui?.close();
    await emulator?.close();
    await rm(project, { recursive: true, force: true });
  });

  it('refuses every regenerate action from another origin, and queues nothing', async () => {
    const foreign = { origin: 'http://attacker.example' };
    for (const [path, body] of [
      ['/api/regenerate/queue', { source: 'knight.png', variant: 1 }],
      ['/api/regenerate/submit', {}],
      ['/api/regenerate/run-now', { id: 1 }],
      ['/api/regenerate/remove', { id: 1 }],
      ['/api/regenerate/auto-submit', { size: 1 }],
      ['/api/versions/choose', { version: 1 }],
    ] as const) {
      const answer = await post(ui, path, body, foreign);
      expect(answer.status, path).toBe(403);
    }
    const crossSite = await post(ui, '/api/regenerate/queue', { source: 'knight.png', variant: 1 }, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const view = (await (await fetch(new URL('/api/regenerate', ui.url))).json()) as { items: unknown[]; autoSubmitAt?: number };
    expect(view.items).toEqual([]);
    expect(view.autoSubmitAt).toBeUndefined();
  });

  it('answers bad input with a 4xx and one line naming the field', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/api/regenerate/queue', { source: 'knight.png' }, /^variant: /],
      ['/api/regenerate/queue', { source: 'knight.png', variant: 1, edits: { seed: -1 } }, /^edits\.seed: /],
      ['/api/regenerate/queue', { source: 'knight.png', variant: 1, edits: { aspectRatio: '7:5' } }, /^edits\.aspectRatio: /],
      ['/api/regenerate/queue', { source: 'knight.png', variant: 1, edits: { record: { apparent_age: 'old' } } }, /^record\.apparent_age: /],
      ['/api/regenerate/queue', { source: 'knight.png', variant: 1, edits: { shot: 'no such shot' } }, /^shot: "no such shot" is not one of compile\.variants/],
      ['/api/regenerate/queue', { source: 'nobody.png', variant: 1 }, /^source: no compiled prompt for nobody\.png/],
      ['/api/regenerate/run-now', { id: 99 }, /^id: 99 is not a queued request/],
      ['/api/regenerate/submit', {}, /^queue: nothing is queued/],
      ['/api/regenerate/auto-submit', { size: 0 }, /^size: /],
      ['/api/versions/choose', { version: 7 }, /^version: no version 7/],
    ];
    for (const [path, body, expected] of cases) {
      const answer = await post(ui, path, body);
      expect(answer.status, `${path} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.body.error?.message, path).toMatch(expected);
      expect(answer.body.error?.message).not.toContain('\n');
    }
  });

  it('queues an image from the page, with its cost, and keeps the size that sends the queue by itself', async () => {
    const added = await post(ui, '/api/regenerate/queue', { source: 'knight.png', variant: 1, edits: { prompt: 'A knight, in the rain.' } });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body['queued']).toBe(1);
    const saved = await post(ui, '/api/regenerate/auto-submit', { size: 5 });
    expect(saved.status).toBe(200);
    const view = await readView(ui);
    expect(view.items.map((item) => item.status)).toEqual(['queued']);
    expect(view.items[0]?.cost.batchUsd).toBeGreaterThan(0);
    expect(view.autoSubmitAt).toBe(5);
  });

  it('refuses to change the queue, send it or choose while another run holds the workspace lock, and keeps the queue', async () => {
    const lock = await acquireWorkspaceLock({ directory: join(project, '.chargen'), command: 'run', now: Date.now });
    try {
      for (const [path, body] of [
        ['/api/versions/choose', { version: 1 }],
        ['/api/regenerate/queue', { source: 'knight.png', variant: 1 }],
        ['/api/regenerate/remove', { id: 1 }],
        ['/api/regenerate/auto-submit', { size: 3 }],
      ] as const) {
        const refused = await post(ui, path, body);
        expect(refused.status, path).toBe(409);
        expect(refused.body.error?.message).toMatch(/is in use by process \d+ \(`chargen run`/);
      }
      // A send starts in the background: it ends at once, said on the page, with nothing sent.
      expect((await post(ui, '/api/regenerate/submit', {})).status).toBe(202);
      const view = await waitForView(ui, (current) => !current.sending && current.last !== undefined);
      expect(view.last).toMatch(/is in use by process \d+/);
      expect(view.items.map((item) => item.status)).toEqual(['queued']);
    } finally {
      await lock.release();
    }
  });

  it('sends the queue by itself when it reaches the size the artist set, and says when the batch is done', async () => {
    expect((await post(ui, '/api/regenerate/auto-submit', { size: 2 })).status).toBe(200);
    const added = await post(ui, '/api/regenerate/queue', { source: 'knight.png', variant: 1, edits: { seed: 99 } });
    expect(added.body['submitted']).toBe(true);
    const view = await waitForView(ui, (current) => current.batches.some((batch) => batch.status === 'done') && !current.sending);
    expect(view.items.map((item) => item.status)).toEqual(['done', 'done']);
    expect(view.batches.at(-1)?.message).toMatch(/^2 of 2 images made \(batch \d+\)$/);
  });
});
