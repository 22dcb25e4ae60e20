import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editCheckpointItem } from '../support/edit-checkpoint-item.ts';
import { runCli } from '../../pipeline/cli/run-cli.ts';
import { startUiServer, type RunningUi } from '../../pipeline/cli/ui-command.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { createMemoryLogger } from '../../lib/logger.ts';
import { runPipeline } from '../../pipeline/run-pipeline.ts';
import { readLockHolder } from '../../lib/store/workspace-lock.ts';
import type { QueueView } from '../../pipeline/ui/build-queue-view.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

const root = join(import.meta.dirname, '..', '..');
/** Distinctive, so a leak anywhere in a page or an answer is found. */
const apiKey = 'ui-test-key-7f3a9c1e55d2';

async function createProject(prefix: string): Promise<{ directory: string; config: ChargenConfig }> {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  await cp(join(root, 'input_images'), join(directory, 'input_images'), { recursive: true });
  const file = { path: join(directory, 'chargen.config.json'), value: { compile: { imageConfig: { aspectRatio: '3:4', imageSize: '1K' } } } };
  await writeFile(file.path, JSON.stringify(file.value));
  return { directory, config: resolveConfig({ file, env: {}, flags: {} }) };
}

function environmentFor(emulator: TestEmulator): NodeJS.ProcessEnv {
  return { GEMINI_API_KEY: apiKey, CHARGEN_BASE_URL: emulator.baseUrl };
}

/** Every answer the tests read, to check at the end that the key is in none. */
const answers: string[] = [];

async function get(ui: RunningUi, path: string, init: RequestInit = {}): Promise<{ status: number; text: string; headers: Headers; bytes: Buffer }> {
  const response = await fetch(new URL(path, ui.url), init);
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString('utf8');
  answers.push(text);
  return { status: response.status, text, headers: response.headers, bytes };
}

async function getJson<T = Record<string, unknown>>(ui: RunningUi, path: string): Promise<T> {
  const answer = await get(ui, path);
  expect(answer.status, answer.text).toBe(200);
  return JSON.parse(answer.text) as T;
}

function post(ui: RunningUi, path: string, body: unknown, headers: Record<string, string> = {}) {
  return get(ui, path, { method: 'POST', headers: { 'content-type': 'application/json', origin: new URL(ui.url).origin, ...headers }, body: JSON.stringify(body) });
}

async function waitFor<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  for (let attempt = 0; attempt < 300; attempt += 1) {
    last = await read();
    if (accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

/** Reads a server-sent event stream until `accept` finds what it wants in the text so far. */
async function readEvents(ui: RunningUi, accept: (text: string) => boolean, onOpen?: () => Promise<void>): Promise<string> {
  const controller = new AbortController();
  const response = await fetch(new URL('/api/events', ui.url), { signal: controller.signal });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  let opened = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the event stream ended: ${text}`);
      text += decoder.decode(value, { stream: true });
      if (!opened && /event: queue/.test(text)) {
        opened = true;
        await onOpen?.();
      }
      if (accept(text)) return text;
    }
  } finally {
    controller.abort();
    answers.push(text);
  }
}

describe('chargen ui server, on a finished workspace', () => {
  let emulator: TestEmulator;
  let project: { directory: string; config: ChargenConfig };
  let ui: RunningUi;
  const logger = createMemoryLogger();

  beforeAll(async () => {
    emulator = await startTestEmulator({ latency: { pendingMilliseconds: 0, runningMilliseconds: 0 } });
    project = await createProject('chargen-ui-done-');
    const summary = await runPipeline({ cwd: project.directory, env: environmentFor(emulator), logger, config: project.config, yes: true });
    expect(summary.exitCode, summary.message).toBe(0);
    ui = await startUiServer({ cwd: project.directory, env: environmentFor(emulator), config: project.config, logger, port: 0, refreshMilliseconds: 50 });
  });
  afterAll(async () => {
    await ui?.close();
    await emulator?.close();
    await rm(project.directory, { recursive: true, force: true });
  });

  it('serves the page, and the queue: stages, jobs with their request counts, the gallery counts', async () => {
    const page = await get(ui, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.text).toContain('<script type="module" src="/app.js">');
    expect((await get(ui, '/app.js')).status).toBe(200);

    const queue = await getJson<QueueView>(ui, '/api/queue');
    expect(queue.stages).toEqual([
      { name: 'analyze', status: 'done', items: 6, failed: 0, retryable: 0 },
      { name: 'compile', status: 'done', items: 6, failed: 0, retryable: 0 },
      { name: 'synthesize', status: 'done', items: 6, failed: 0, retryable: 0 },
    ]);
    expect(queue.jobs.map((job) => [job.stage, job.state, job.settled, job.requests])).toEqual([
      ['analyze', 'JOB_STATE_SUCCEEDED', true, 6],
      ['synthesize', 'JOB_STATE_SUCCEEDED', true, 6],
    ]);
    for (const job of queue.jobs) {
      expect(job.name).toMatch(/^batches\//);
      expect(Date.parse(job.endedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(job.createdAt));
    }
    expect(queue.gallery).toEqual({ total: 6, done: 6, failed: 0, pending: 0 });
    expect(queue.deadLetters).toEqual({ total: 0, retryable: 0, shown: [] });
    expect(queue.run).toEqual({ active: false, log: [] });
    expect(queue.cancel).toEqual({ allowed: true });
  });

  it('pages and filters the gallery, and shows each image with its source, analysis and prompt', async () => {
    type Page = { total: number; items: { id: string; source: string; status: string; imageUrl?: string; sourceUrl: string }[] };
    const first = await getJson<Page>(ui, '/api/gallery?limit=4');
    const second = await getJson<Page>(ui, '/api/gallery?limit=4&offset=4');
    expect(first.total).toBe(6);
    expect(first.items).toHaveLength(4);
    expect(second.items).toHaveLength(2);
    const sources = [...first.items, ...second.items].map((item) => item.source);
    expect(sources).toEqual(['bard.png', 'druid.png', 'knight.png', 'mage.png', 'ranger.png', 'rogue.png']);
    expect((await getJson<Page>(ui, '/api/gallery?status=failed')).total).toBe(0);
    expect((await getJson<Page>(ui, '/api/gallery?status=done')).total).toBe(6);
    const badFilter = await get(ui, '/api/gallery?status=lost');
    expect(badFilter.status).toBe(400);
    expect(badFilter.text).toContain('status');

    const item = first.items[0] as Page['items'][number];
    const detail = await getJson<{ prompt: string; analysis: { archetype: string }; model: string; width: number; imageUrl: string; sourceUrl: string }>(ui, `/api/gallery/${item.id}`);
    const sidecar = JSON.parse(await readFile(join(project.directory, 'final_characters', 'bard.json'), 'utf8')) as { prompt: string; analysis: { archetype: string }; image: { width: number } };
    expect(detail.prompt).toBe(sidecar.prompt);
    expect(detail.analysis.archetype).toBe(sidecar.analysis.archetype);
    expect(detail.width).toBe(sidecar.image.width);
    expect(detail.model).toBe('gemini-3-pro-image');

    const image = await get(ui, detail.imageUrl);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    expect(image.bytes.equals(await readFile(join(project.directory, 'final_characters', 'bard.jpg')))).toBe(true);
    const unchanged = await get(ui, detail.imageUrl, { headers: { 'if-none-match': image.headers.get('etag') ?? '' } });
    expect(unchanged.status).toBe(304);
    const source = await get(ui, detail.sourceUrl);
    expect(source.bytes.equals(await readFile(join(project.directory, 'input_images', 'bard.png')))).toBe(true);
    expect((await get(ui, `/api/gallery/${'0'.repeat(64)}`)).status).toBe(404);
  });

  it('serves nothing outside the input and output folders, whatever the path or link', async () => {
    for (const path of ['/media/output/..%2F..%2Fetc%2Fpasswd', '/media/source/../../chargen.config.json', '/..%2Fchargen.config.json', '/media/output/bard.jpg', `/media/output/${'a'.repeat(64)}`]) {
      const answer = await get(ui, path);
      expect(answer.status, path).toBe(404);
    }
    // An output replaced by a link to a file elsewhere is not followed out of the folder.
    const page = await getJson<{ items: { imageUrl: string; source: string }[] }>(ui, '/api/gallery?limit=1');
    const outside = join(project.directory, 'private.png');
    await writeFile(outside, 'not for the browser');
    const output = join(project.directory, 'final_characters', 'bard.jpg');
    const original = await readFile(output);
    await rm(output);
    await symlink(outside, output);
    try {
      const answer = await get(ui, (page.items[0] as { imageUrl: string }).imageUrl);
      expect(answer.status).toBe(404);
      expect(answer.text).not.toContain('not for the browser');
    } finally {
      await rm(output);
      await writeFile(output, original);
    }
  });

  it('answers only requests addressed to loopback, and takes actions only from its own page', async () => {
    // fetch will not send a Host of its choosing; node:http does, as a rebinding page's browser would.
    const rebound = await new Promise<number>((resolve, reject) => {
      const url = new URL('/api/queue', ui.url);
      request({ host: url.hostname, port: url.port, path: url.pathname, headers: { host: 'attacker.example:8788' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(rebound).toBe(421);
    const foreign = await post(ui, '/api/runs', {}, { origin: 'http://attacker.example' });
    expect(foreign.status).toBe(403);
    const crossSite = await post(ui, '/api/jobs/cancel', { name: 'batches/abc' }, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const plainForm = await get(ui, '/api/runs', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'from=analyze' });
    expect(plainForm.status).toBe(415);
    const badStage = await post(ui, '/api/runs', { from: 'everything' });
    expect(badStage.status).toBe(400);
    expect(JSON.parse(badStage.text).error.message).toContain('from');
    const badName = await post(ui, '/api/jobs/cancel', { name: '../../etc' });
    expect(badName.status).toBe(400);
    expect(JSON.parse(badName.text).error.message).toContain('name');
    const notOurs = await post(ui, '/api/jobs/cancel', { name: 'batches/someoneelse123' });
    expect(notOurs.status).toBe(400);
    expect(JSON.parse(notOurs.text).error.message).toContain('not a job of this workspace');
  });

  it('pushes the queue as server-sent events, and a damaged checkpoint as a problem naming the file and the fix', async () => {
    const database = join(project.directory, '.chargen', 'checkpoints.sqlite');
    let restore: (() => void) | undefined;
    try {
      const text = await readEvents(
        ui,
        (received) => /event: problem/.test(received),
        async () => {
          restore = editCheckpointItem(database, { stage: 'compile', kind: 'prompt', edit: (value) => (value['variant'] = 0) });
        },
      );
      const problem = JSON.parse(/event: problem\ndata: (.*)\n/.exec(text)?.[1] ?? '{}') as { error: { message: string } };
      expect(problem.error.message).toContain('checkpoints.sqlite');
      expect(problem.error.message).toContain('chargen run --only compile');
      const queue = await get(ui, '/api/queue');
      expect(queue.status).toBe(422);
      expect(queue.text).not.toMatch(/at .*\.ts:\d+/);
    } finally {
      restore?.();
    }
    await readEvents(ui, (received) => /event: queue/.test(received));
  });

  it('plans a rerun, runs it (one at a time), and reports how it ended; answers already paid for are reused', async () => {
    const before = await emulator.stats();
    const plan = await post(ui, '/api/plan', { from: 'compile' });
    expect(plan.status, plan.text).toBe(200);
    expect((JSON.parse(plan.text) as { lines: string[] }).lines.join('\n')).toMatch(/synthesize: 6 items, 6 done or cached, 0 to send/);

    // Clicked five times at once: one run starts, the others are refused.
    const clicks = await Promise.all(Array.from({ length: 5 }, () => post(ui, '/api/runs', { from: 'compile' })));
    expect(clicks.map((click) => click.status).sort()).toEqual([202, 409, 409, 409, 409]);
    const again = await post(ui, '/api/runs', {});
    expect(again.status).toBe(409);
    const queue = await waitFor(() => getJson<QueueView>(ui, '/api/queue'), (view) => !view.run.active && view.run.last !== undefined, 'the run to end');
    expect(queue.run.last).toMatchObject({ exitCode: 0 });
    expect(queue.run.log.join('\n')).toContain('chargen run --from compile (started from the UI)');
    expect(queue.run.log.join('\n')).not.toContain('is in use by');
    expect((await emulator.stats())['batchesCreated']).toBe(before['batchesCreated']);
  });

  it('never puts the API key in a page, an answer or an event', () => {
    expect(answers.length).toBeGreaterThan(20);
    for (const answer of answers) expect(answer).not.toContain(apiKey);
  });
});

describe('chargen ui server, while batch jobs run', () => {
  let emulator: TestEmulator;
  let project: { directory: string; config: ChargenConfig };
  let ui: RunningUi;
  let now = Date.now();
  const logger = createMemoryLogger();
  /** The UI's looks at job states, as the API sees them. */
  let lookups = 0;
  const countingFetch: typeof fetch = (input, init) => {
    if (String(input).includes('/v1beta/batches/')) lookups += 1;
    return fetch(input, init);
  };

  beforeAll(async () => {
    emulator = await startTestEmulator({ latency: { pendingMilliseconds: 60_000, runningMilliseconds: 60_000 } });
    project = await createProject('chargen-ui-live-');
    const summary = await runPipeline({ cwd: project.directory, env: environmentFor(emulator), logger, config: project.config, yes: true, detach: true });
    expect(summary.exitCode, summary.message).toBe(4);
    ui = await startUiServer({ cwd: project.directory, env: environmentFor(emulator), config: project.config, logger, port: 0, refreshMilliseconds: 50, now: () => now, fetch: countingFetch });
  });
  afterAll(async () => {
    await ui?.close();
    await emulator?.close();
    await rm(project.directory, { recursive: true, force: true });
  });

  const readJob = async (stage: string) => {
    const queue = await getJson<QueueView>(ui, '/api/queue');
    return queue.jobs.filter((job) => job.stage === stage).at(-1);
  };

  it('follows a job live (the API is asked at most once per poll interval), with the counts the SDK does not expose', async () => {
    // The first read starts a look in the background; its answer shows from the next read on.
    const pending = await waitFor(() => readJob('analyze'), (job) => job?.live === true, 'the first look');
    expect(pending).toMatchObject({ state: 'JOB_STATE_PENDING', settled: false, live: true, requests: 6, pending: 6 });
    expect((await getJson<QueueView>(ui, '/api/queue')).stages[0]).toMatchObject({ name: 'analyze', status: 'running' });
    expect(lookups).toBe(1);

    emulator.clock.advance(61_000);
    // The last answer stands until the poll interval has passed: reads do not ask the API again.
    for (let read = 0; read < 5; read += 1) expect((await readJob('analyze'))?.state).toBe('JOB_STATE_PENDING');
    expect(lookups).toBe(1);
    now += 1_500;
    await waitFor(() => readJob('analyze'), (job) => job?.state === 'JOB_STATE_RUNNING', 'RUNNING');
    expect(lookups).toBe(2);

    emulator.clock.advance(61_000);
    now += 1_500;
    const done = await waitFor(() => readJob('analyze'), (job) => job?.settled === true, 'SUCCEEDED');
    expect(done).toMatchObject({ state: 'JOB_STATE_SUCCEEDED', settled: true, succeeded: 6, failed: 0 });
    // A job seen ended is not asked about again.
    now += 1_500;
    await readJob('analyze');
    expect(lookups).toBe(3);
    expect(done?.endedAt).toBeDefined();
  });

  it('cancels a running job from the page; the run started there asks for its lines again in a new job', async () => {
    const started = await post(ui, '/api/runs', {});
    expect(started.status, started.text).toBe(202);
    const synthesize = await waitFor(() => readJob('synthesize'), (job) => job?.name !== undefined && !job.settled, 'the synthesize job');
    const name = synthesize?.name as string;

    const cancelled = await post(ui, '/api/jobs/cancel', { name });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(JSON.parse(cancelled.text)).toEqual({ cancelled: { name, displayName: synthesize?.displayName } });
    emulator.clock.advance(500); // a cancel lands after the emulator's cancel latency
    const live = await emulator.request(`/v1beta/${name}`, { method: 'GET' });
    expect(((await live.json()) as { metadata: { state: string } }).metadata.state).toBe('BATCH_STATE_CANCELLED');

    now += 1_500;
    const queue = await waitFor(
      () => getJson<QueueView>(ui, '/api/queue'),
      (view) =>
        view.jobs.some((job) => job.name === name && job.state === 'JOB_STATE_CANCELLED') &&
        view.jobs.filter((job) => job.stage === 'synthesize' && job.name !== undefined).length === 2,
      'the cancelled job and its replacement',
    );
    expect(queue.run.active).toBe(true);
    expect(queue.run.log.join('\n')).toContain(`cancel asked for ${name}`);
  });

  it('stops its run resumably when it is closed: the lock is released and the next run adopts the job', async () => {
    const before = await emulator.stats();
    await ui.close();
    expect(await readLockHolder(join(project.directory, '.chargen'))).toBeUndefined();
    const resumed = await runPipeline({ cwd: project.directory, env: environmentFor(emulator), logger, config: project.config, yes: true, detach: true });
    expect(resumed.exitCode, resumed.message).toBe(4);
    expect((await emulator.stats())['batchesCreated']).toBe(before['batchesCreated']);
    const created = (await emulator.client.batches.list({ config: { pageSize: 100 } })).page.map((job) => job.displayName);
    expect(new Set(created).size).toBe(created.length);
  });

  it('answers at once when the API does not, and says why the states may be old', async () => {
    const silent: typeof fetch = (input, init) =>
      String(input).includes('/v1beta/batches/')
        ? new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error)))
        : fetch(input, init);
    const stalled = await startUiServer({ cwd: project.directory, env: environmentFor(emulator), config: project.config, logger, port: 0, lookupTimeoutMilliseconds: 200, fetch: silent });
    try {
      const first = await getJson<QueueView & { liveError?: string }>(stalled, '/api/queue');
      expect(first.jobs.find((job) => job.stage === 'synthesize' && !job.settled)?.state).toBe('SUBMITTED');
      const later = await waitFor(() => getJson<QueueView & { liveError?: string }>(stalled, '/api/queue'), (view) => view.liveError !== undefined, 'the lookup to time out');
      expect(later.liveError).toMatch(/batches\.get batches\/\S+: .*(timeout|aborted)/i);
      expect(later.liveError).not.toContain(apiKey);
    } finally {
      await stalled.close();
    }
  });
});

describe('chargen ui on the command line', () => {
  it('exits 2 with a clear message when there is no workspace, or it does not validate, and 0 after serving one', async () => {
    const project = await createProject('chargen-ui-cli-');
    try {
      const run = (argv: string[], waitForStop: () => Promise<void> = async () => undefined) => {
        const logger = createMemoryLogger();
        return runCli({ argv: ['node', 'chargen', ...argv], cwd: project.directory, env: {}, logger, waitForStop }).then((code) => ({ code, text: logger.lines.map((line) => line.text).join('\n') }));
      };
      const missing = await run(['ui', '--port', '0']);
      expect(missing.code).toBe(2);
      expect(missing.text).toContain(`No chargen workspace at ${join(project.directory, '.chargen')}`);
      expect(missing.text).not.toMatch(/\n\s+at /);

      expect((await run(['run', '--yes'], () => new Promise<void>(() => undefined))).code).toBe(0);
      const served = await run(['ui', '--port', '0']);
      expect(served.code, served.text).toBe(0);
      expect(served.text).toMatch(/chargen ui: http:\/\/127\.0\.0\.1:\d+\//);

      const badPort = await run(['ui', '--port', 'eighty']);
      expect(badPort.code).toBe(2);
      expect(badPort.text).toContain('--port');

      editCheckpointItem(join(project.directory, '.chargen', 'checkpoints.sqlite'), { stage: 'analyze', kind: 'record', edit: (value) => (value['records'] = 'many') });
      const damaged = await run(['ui', '--port', '0']);
      expect(damaged.code).toBe(2);
      expect(damaged.text).toContain('checkpoints.sqlite');
      expect(damaged.text).toContain('chargen run --from analyze');
      expect(damaged.text).not.toMatch(/\n\s+at /);
    } finally {
      await rm(project.directory, { recursive: true, force: true });
    }
  });
});
