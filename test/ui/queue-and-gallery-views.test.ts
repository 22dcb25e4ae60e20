import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../lib/gemini/job-record.ts';
import { buildQueueView } from '../../pipeline/ui/build-queue-view.ts';
import { countGalleryItems, createGalleryIndex, readGalleryDetail, selectGalleryPage } from '../../pipeline/ui/list-gallery-items.ts';
import type { WorkspaceFiles } from '../../pipeline/ui/read-workspace-files.ts';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import type { AnalysisCheckpoint } from '../../stages/analyze/analysis-result.ts';
import { createAnalyzedImages } from '../support/sample-records.ts';

const hex = (character: string) => character.repeat(64);

function createRecord(options: { stage: string; status: JobRecord['status']; finalState?: string; jobName?: string }): JobRecord {
  return {
    version: 1,
    displayName: `chargen-abcdef1234-${options.stage}-0123456789abcdef-1`,
    stage: options.stage,
    model: 'gemini-3-pro-image',
    fingerprint: hex('a'),
    attempt: 1,
    keys: ['k1', 'k2', 'k3'],
    requestFile: 'requests/x.jsonl',
    ...(options.jobName ? { jobName: options.jobName } : {}),
    status: options.status,
    ...(options.finalState ? { finalState: options.finalState } : {}),
    createdAt: '2026-11-21T10:00:00.000Z',
  };
}

function createPrompt(source: string, variant: number, text: string): GenerationPrompt {
  return {
    key: hex(text[0] ?? 'f'),
    sourceImage: { path: source, sha256: hex('e'), mimeType: 'image/png' },
    variant,
    prompt: text,
    model: 'gemini-3-pro-image',
    imageConfig: { aspectRatio: '3:4', imageSize: '1K' },
    useReferenceImage: true,
  };
}

const emptyFiles: WorkspaceFiles = { analysis: undefined, prompts: undefined, synthesis: undefined, jobs: [], lock: undefined };

function buildView(files: WorkspaceFiles, options: { backend: string; ownRun?: boolean }) {
  return buildQueueView({
    files,
    workspaceDirectory: '/project/.chargen',
    backend: options.backend,
    live: new Map(),
    runStates: new Map(),
    run: { pid: 42, ownRun: options.ownRun ?? false, log: [] },
    cancel: { allowed: true },
    gallery: { total: 0, done: 0, failed: 0, pending: 0 },
  });
}

describe('the queue view', () => {
  const submitted = { record: createRecord({ stage: 'synthesize', status: 'submitted', jobName: 'batches/abc' }), updatedAt: '2026-11-21T10:01:00.000Z' };

  it("calls the built-in emulator's unfinished jobs interrupted once no run holds the workspace", () => {
    const view = buildView({ ...emptyFiles, jobs: [submitted] }, { backend: 'emulator' });
    expect(view.jobs[0]).toMatchObject({ state: 'INTERRUPTED', settled: true, error: expect.stringContaining('chargen run') });
    expect(view.stages.find((stage) => stage.name === 'synthesize')?.status).toBe('not-run');
    expect(view.run.active).toBe(false);
  });

  it('keeps them submitted while a run (this page\'s or a terminal\'s) holds it, and on a backend that outlives processes', () => {
    const lock = { pid: 7, hostname: 'here', command: 'run', startedAt: '2026-11-21T10:00:00.000Z' };
    for (const view of [
      buildView({ ...emptyFiles, jobs: [submitted] }, { backend: 'emulator', ownRun: true }),
      buildView({ ...emptyFiles, jobs: [submitted], lock }, { backend: 'emulator' }),
      buildView({ ...emptyFiles, jobs: [submitted] }, { backend: 'gemini' }),
    ]) {
      expect(view.jobs[0]).toMatchObject({ state: 'SUBMITTED', settled: false });
      expect(view.stages.find((stage) => stage.name === 'synthesize')?.status).toBe('running');
    }
  });

  it('trusts a finished record over a look taken while the job ran', () => {
    const finished = { record: createRecord({ stage: 'analyze', status: 'finished', finalState: 'JOB_STATE_SUCCEEDED', jobName: 'batches/done' }), updatedAt: '2026-11-21T10:05:00.000Z' };
    const view = buildQueueView({
      files: { ...emptyFiles, jobs: [finished] },
      workspaceDirectory: '/w',
      backend: 'gemini',
      live: new Map([['batches/done', { name: 'batches/done', state: 'JOB_STATE_RUNNING', requestCount: 3, succeededCount: 0, failedCount: 0, pendingCount: 3 }]]),
      runStates: new Map(),
      run: { pid: 42, ownRun: false, log: [] },
      cancel: { allowed: true },
      gallery: { total: 0, done: 0, failed: 0, pending: 0 },
    });
    expect(view.jobs[0]).toMatchObject({ state: 'JOB_STATE_SUCCEEDED', settled: true, live: false, endedAt: '2026-11-21T10:05:00.000Z' });
    expect(view.jobs[0]?.pending).toBeUndefined();
  });
});

describe('stragglers in the queue view', () => {
  it('shows a line per straggler: its deadline, the cancel, and the job that took its lines; the replacement names it', () => {
    const straggler = {
      record: {
        ...createRecord({ stage: 'analyze', status: 'finished', finalState: 'JOB_STATE_CANCELLED', jobName: 'batches/stuck' }),
        pendingDeadlineAt: '2026-11-21T16:00:00.000Z',
        cancelRequestedAt: '2026-11-21T16:00:01.000Z',
        replacedBy: 'chargen-abcdef1234-analyze-0123456789abcdef-2',
      },
      updatedAt: '2026-11-21T16:00:02.000Z',
    };
    const replacement = {
      record: { ...createRecord({ stage: 'analyze', status: 'submitted', jobName: 'batches/next' }), displayName: 'chargen-abcdef1234-analyze-0123456789abcdef-2', attempt: 2, replaces: straggler.record.displayName, pendingDeadlineAt: '2026-11-21T22:00:02.000Z' },
      updatedAt: '2026-11-21T16:00:03.000Z',
    };
    const view = buildView({ ...emptyFiles, jobs: [straggler, replacement] }, { backend: 'gemini' });
    expect(view.jobs.map((job) => job.straggler)).toEqual([
      'straggler: still PENDING at its deadline 2026-11-21T16:00:00.000Z, cancelled; its unanswered lines went into chargen-abcdef1234-analyze-0123456789abcdef-2',
      `replaces the straggler ${straggler.record.displayName}; replaced if still PENDING at 2026-11-21T22:00:02.000Z`,
    ]);
    // A job without a deadline, or finished before it, has nothing to say.
    const plain = { record: createRecord({ stage: 'analyze', status: 'submitted', jobName: 'batches/plain' }), updatedAt: '2026-11-21T10:01:00.000Z' };
    expect(buildView({ ...emptyFiles, jobs: [plain] }, { backend: 'gemini' }).jobs[0]?.straggler).toBeUndefined();
  });
});

describe('the gallery index', () => {
  const requestKeyOf = (prompt: GenerationPrompt) => `request-of-${prompt.prompt}`;
  const prompts = { kind: 'chargen-prompts' as const, version: 1 as const, fingerprint: hex('1'), prompts: [createPrompt('a.png', 1, 'alpha'), createPrompt('b.png', 1, 'beta'), createPrompt('c.png', 1, 'gamma')] };

  it('has one tile per source and variant: made, failed, or still to make, and an image from an older prompt is to make again', () => {
    const synthesis = {
      kind: 'chargen-synthesis' as const,
      version: 1 as const,
      fingerprint: hex('2'),
      outputs: [
        { sourcePath: 'a.png', variant: 1, key: 'request-of-alpha', image: 'a.png', sidecar: 'a.json' },
        { sourcePath: 'b.png', variant: 1, key: 'request-of-an-older-beta', image: 'b.png', sidecar: 'b.json' },
        // Its source is gone from the prompts: the image on disk is still shown.
        { sourcePath: 'old.png', variant: 1, key: 'request-of-old', image: 'old.png', sidecar: 'old.json' },
      ],
      failures: [{ sourcePath: 'c.png', variant: 1, key: 'request-of-gamma', reason: 'IMAGE_SAFETY', retryable: false, fix: 'change it' }],
      warnings: [],
    };
    const items = createGalleryIndex({ requestKeyOf })({ ...emptyFiles, prompts, synthesis });
    expect(items.map((item) => [item.source, item.status, item.image ?? null])).toEqual([
      ['a.png', 'done', 'a.png'],
      ['b.png', 'pending', 'b.png'],
      ['c.png', 'failed', null],
      ['old.png', 'done', 'old.png'],
    ]);
    expect(items[1]?.reason).toContain('earlier prompt');
    expect(countGalleryItems(items)).toEqual({ total: 4, done: 2, failed: 1, pending: 1 });
    expect(selectGalleryPage(items, { status: 'done', offset: 1, limit: 5 })).toEqual({ total: 2, offset: 1, items: [items[3]] });
  });

  it("names a tile's shot, and takes an image made before seeds as current beside the seeded request", () => {
    const shot = { ...createPrompt('a.png', 2, 'alpha in profile'), shot: 'profile' };
    const synthesis = {
      kind: 'chargen-synthesis' as const,
      version: 1 as const,
      fingerprint: hex('2'),
      outputs: [{ sourcePath: 'a.png', variant: 2, key: 'unseeded-request', image: 'a-profile.png', sidecar: 'a-profile.json' }],
      failures: [],
      warnings: [],
    };
    const both = (prompt: GenerationPrompt) => [requestKeyOf(prompt), 'unseeded-request'];
    const [item] = createGalleryIndex({ requestKeyOf: both })({ ...emptyFiles, prompts: { ...prompts, prompts: [shot] }, synthesis });
    expect(item).toMatchObject({ source: 'a.png', variant: 2, shot: 'profile', status: 'done' });
  });

  it('has a failed tile, with its reason, for each input that failed analysis, and says which sources a browser cannot show', async () => {
    const [record, other] = createAnalyzedImages(2);
    const analysis: AnalysisCheckpoint = {
      kind: 'chargen-analysis',
      version: 1,
      records: [
        { ...(record as AnalysisCheckpoint['records'][number]), sourcePath: 'a.png' },
        // Its bytes are HEIC whatever its name says.
        { ...(other as AnalysisCheckpoint['records'][number]), sourcePath: 'h.jpg', mimeType: 'image/heic' },
      ],
      failures: [
        { sourcePath: 'broken.png', step: 'inspect', reason: 'not an image: the file holds text', fix: 'Replace it with the image.', retryable: false },
        { sourcePath: 'photo.HEIF', step: 'upload', reason: 'upload failed: 503', fix: 'Run again.', retryable: true },
      ],
      warnings: [],
    };
    const heicPrompt = { ...createPrompt('h.jpg', 1, 'heic'), sourceImage: { path: 'h.jpg', sha256: hex('d'), mimeType: 'image/heic' } };
    const files = { ...emptyFiles, analysis, prompts: { ...prompts, prompts: [createPrompt('a.png', 1, 'alpha'), heicPrompt] } };
    const items = createGalleryIndex({ requestKeyOf })(files);
    expect(items.map((item) => [item.source, item.status, item.failedIn ?? null, item.reason ?? null, item.sourcePreview])).toEqual([
      ['a.png', 'pending', null, null, true],
      ['broken.png', 'failed', 'analyze', 'not an image: the file holds text', true],
      ['h.jpg', 'pending', null, null, false],
      ['photo.HEIF', 'failed', 'analyze', 'upload failed: 503', false],
    ]);
    const broken = items[1];
    expect(broken?.id).toMatch(/^[0-9a-f]{64}$/);
    expect(createGalleryIndex({ requestKeyOf })({ ...files }).map((item) => item.id)).toEqual(items.map((item) => item.id));
    expect(countGalleryItems(items)).toEqual({ total: 4, done: 0, failed: 2, pending: 2 });
    expect(await readGalleryDetail({ files, item: broken as (typeof items)[number], outputDirectory: '/out' })).toMatchObject({ status: 'failed', fix: 'Replace it with the image.', retryable: false });
  });

  it('is built again only when a checkpoint changes', () => {
    let calls = 0;
    const index = createGalleryIndex({ requestKeyOf: (prompt) => ((calls += 1), requestKeyOf(prompt)) });
    const files = { ...emptyFiles, prompts };
    index(files);
    index({ ...files });
    expect(calls).toBe(3);
    index({ ...files, prompts: { ...prompts } });
    expect(calls).toBe(6);
  });
});
