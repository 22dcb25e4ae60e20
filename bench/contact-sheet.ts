/**
 * The contact sheet of a large run: peak RSS and the page's size when `index.html` shows every image, against the
 * same sheet capped at its default (contactSheetMaxImages), in the same run. The sheet is written at the end of
 * every run: at 100,000 images it held the run's peak RSS (1,321 MB, `npm run bench:rss -- --images 100000`).
 * Run: npx tsx bench/contact-sheet.ts [images, default 100000]
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compilePrompts } from '../stages/compile/core/compile-prompts.ts';
import { compileSettingsSchema } from '../schemas/compile-settings.ts';
import { compilePromptTemplates, readTemplateSources } from '../stages/compile/load-prompt-templates.ts';
import { openWorkspace } from '../lib/store/open-workspace.ts';
import { writePromptsCheckpoint } from '../stages/compile/prompts-checkpoint.ts';
import { writeSynthesizeCheckpoint } from '../stages/synthesize/synthesize-checkpoint.ts';
import { contactSheetMaxImages, writeContactSheet } from '../stages/synthesize/write-contact-sheet.ts';
import { createAnalyzedImages } from '../test/support/sample-records.ts';

const imageCount = Number(process.argv[2] ?? 100_000);
const project = await mkdtemp(join(tmpdir(), 'chargen-bench-sheet-'));
const workspaceDirectory = join(project, '.chargen');
const outputDirectory = join(project, 'final_characters');
await mkdir(outputDirectory, { recursive: true });
await openWorkspace({ directory: workspaceDirectory, now: Date.now });
const distinct = createAnalyzedImages(1000, 'sheet');
const records = Array.from({ length: imageCount }, (_unused, index) => ({ ...distinct[index % distinct.length]!, sourcePath: `hero-${String(index).padStart(6, '0')}.png` }));
const templates = compilePromptTemplates(await readTemplateSources(join(import.meta.dirname, '..', 'templates')));
const prompts = compilePrompts({ records, templates, settings: compileSettingsSchema.parse({}) });
await writePromptsCheckpoint(workspaceDirectory, { fingerprint: 'f'.repeat(64), prompts });
// No sidecars: each card takes its prompt from the prompts checkpoint (as for a sidecar lost), the same text a sidecar holds.
const outputs = prompts.map((prompt) => ({ sourcePath: prompt.sourceImage.path, variant: prompt.variant, key: prompt.key, image: `${prompt.sourceImage.path}.jpg`, sidecar: `${prompt.sourceImage.path}.json` }));
await writeSynthesizeCheckpoint(workspaceDirectory, { fingerprint: 'f'.repeat(64), outputs, failures: [], warnings: [] });

/** Runs one write, sampling RSS every 20 ms: the most above the RSS before it, the time and the page's size. */
async function measure(maxImages: number): Promise<{ rssMegabytes: number; seconds: number; pageBytes: number }> {
  await rm(join(outputDirectory, 'index.html'), { force: true });
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  await writeContactSheet({ workspaceDirectory, inputDirectory: join(project, 'input_images'), outputDirectory, now: Date.now, maxImages });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { rssMegabytes: (peak - before) / 2 ** 20, seconds, pageBytes: (await stat(join(outputDirectory, 'index.html'))).size };
}

// The capped sheet first: RSS only grows, so the larger one measured second cannot flatter the smaller.
const capped = await measure(contactSheetMaxImages);
const whole = await measure(imageCount);
console.log(`contact sheet of ${imageCount} images (Node ${process.version})`);
console.log(`every image:        +${whole.rssMegabytes.toFixed(0)} MB RSS, ${whole.seconds.toFixed(1)} s, page ${whole.pageBytes} bytes`);
console.log(`first ${contactSheetMaxImages} (default): +${capped.rssMegabytes.toFixed(0)} MB RSS, ${capped.seconds.toFixed(1)} s, page ${capped.pageBytes} bytes`);
console.log(`ratio (capped / every image): RSS ${(capped.rssMegabytes / whole.rssMegabytes).toFixed(3)}, page ${(capped.pageBytes / whole.pageBytes).toFixed(3)}`);
await rm(project, { recursive: true, force: true });
