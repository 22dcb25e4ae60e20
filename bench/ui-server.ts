/**
 * The UI server on a large workspace: how long the queue, a gallery page and a detail take to answer, against a
 * baseline measured in the same run (reading the synthesize checkpoint from its database once: the floor of any first look).
 * The first gallery page's tiles are measured too: their pictures as full images (what the page fetched before
 * thumbnails) against their WebP thumbnails, made (first look) and kept (a second look), in the same run.
 * Run: npm run bench:ui -- [outputs, default 100000]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createOutputLikeJpeg } from '../test/support/sample-images.ts';
import { mapWithConcurrency } from '../lib/map-with-concurrency.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startUiServer } from '../pipeline/cli/ui-command.ts';
import { resolveConfig } from '../pipeline/config/load-config.ts';
import { createMemoryLogger } from '../lib/logger.ts';
import { openWorkspace } from '../lib/store/open-workspace.ts';
import { readSynthesizeCheckpoint, writeSynthesizeCheckpoint } from '../stages/synthesize/synthesize-checkpoint.ts';

const outputCount = Number(process.argv[2] ?? 100_000);
const failureCount = Math.round(outputCount / 50);
const project = await mkdtemp(join(tmpdir(), 'chargen-bench-ui-'));
const workspaceDirectory = join(project, '.chargen');
await mkdir(join(project, 'final_characters'), { recursive: true });
await openWorkspace({ directory: workspaceDirectory, now: Date.now });
const keyOf = (index: number) => index.toString(16).padStart(64, '0');
await writeSynthesizeCheckpoint(workspaceDirectory, {
  fingerprint: 'f'.repeat(64),
  outputs: Array.from({ length: outputCount }, (_unused, index) => ({ sourcePath: `hero-${index}.png`, variant: 1, key: keyOf(index), image: `hero-${index}.jpg`, sidecar: `hero-${index}.json` })),
  failures: Array.from({ length: failureCount }, (_unused, index) => ({ sourcePath: `bad-${index}.png`, variant: 1, key: `failed-${index}`, reason: 'IMAGE_SAFETY', retryable: false, fix: 'change the prompt' })),
  warnings: [],
});

async function measure(run: () => Promise<number>): Promise<{ milliseconds: number; bytes: number }> {
  const start = performance.now();
  const bytes = await run();
  return { milliseconds: performance.now() - start, bytes };
}

const baseline = await measure(async () => (await readSynthesizeCheckpoint(workspaceDirectory))?.outputs.length ?? 0);
const ui = await startUiServer({ cwd: project, env: {}, config: resolveConfig({ env: {}, flags: {} }), logger: createMemoryLogger(), port: 0 });
const ask = (path: string) => measure(async () => (await (await fetch(new URL(path, ui.url))).text()).length);
const rows: [string, { milliseconds: number; bytes: number }][] = [
  ['baseline: the synthesize checkpoint read whole from checkpoints.sqlite', baseline],
  ['queue, first (parses and validates)', await ask('/api/queue')],
  ['queue, again (nothing changed)', await ask('/api/queue')],
  ['gallery, first page of 60', await ask('/api/gallery?limit=60')],
  ['gallery, last page', await ask(`/api/gallery?offset=${outputCount - 60}&limit=60`)],
  ['gallery, failed only', await ask('/api/gallery?status=failed&limit=60')],
  ['detail of the last image', await ask(`/api/gallery/${keyOf(outputCount - 1)}`)],
];
rows.push(...(await measureFirstPageTiles()));
await ui.close();
await rm(project, { recursive: true, force: true });

/** A 1K output as the image model returns it (test/support's 896×1200 JPEG, about 290 KB) for each tile of the first page of done images. */
async function measureFirstPageTiles(): Promise<[string, { milliseconds: number; bytes: number }][]> {
  const firstPage = (await (await fetch(new URL('/api/gallery?status=done&limit=60', ui.url))).json()) as { items: { image?: string; imageUrl?: string; thumbnailUrl?: string }[] };
  const jpeg = await createOutputLikeJpeg(0);
  for (const item of firstPage.items) if (item.image) await writeFile(join(project, 'final_characters', item.image), jpeg);
  const fetchAll = (urls: string[]) => measure(async () => {
    let bytes = 0;
    // A page asks for its tiles together; the browser keeps six connections to a host.
    await mapWithConcurrency({
      items: urls,
      concurrency: 6,
      work: async (url) => {
        const received = (await (await fetch(new URL(url, ui.url))).arrayBuffer()).byteLength;
        bytes += received;
      },
    });
    return bytes;
  });
  const full = firstPage.items.flatMap((item) => (item.imageUrl ? [item.imageUrl] : []));
  const thumbnails = firstPage.items.flatMap((item) => (item.thumbnailUrl ? [item.thumbnailUrl] : []));
  return [
    [`first page: ${full.length} tiles as full images`, await fetchAll(full)],
    [`first page: ${thumbnails.length} thumbnails, made`, await fetchAll(thumbnails)],
    [`first page: ${thumbnails.length} thumbnails, kept`, await fetchAll(thumbnails)],
  ];
}

console.log(`chargen ui on ${outputCount} outputs and ${failureCount} failures (Node ${process.version})`);
for (const [name, { milliseconds, bytes }] of rows) {
  console.log(`${name.padEnd(46)} ${milliseconds.toFixed(1).padStart(8)} ms  ${(milliseconds / baseline.milliseconds).toFixed(2).padStart(6)}× baseline  ${bytes} bytes`);
}
console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
