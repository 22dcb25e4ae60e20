import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { readPromptsCheckpoint } from '../../stages/compile/prompts-checkpoint.ts';
import { compareText } from '../../stages/shared/compare-text.ts';
import { readImageSidecar, type ImageSidecar } from '../../stages/synthesize/image-sidecar.ts';
import { formatEntryId } from '../../stages/synthesize/plan-output-names.ts';
import { readSynthesizeCheckpoint, type SynthesizeCheckpoint } from '../../stages/synthesize/synthesize-checkpoint.ts';
import { mapWithConcurrency } from '../map-with-concurrency.ts';
import { writeFileAtomic } from '../workspace/atomic-file.ts';

/**
 * A file's path from the folder the sheet is in, one item per path segment (`['..', 'input_images', 'bard.png']`),
 * not encoded: the sheet encodes each segment itself, so no data can turn into a scheme or an absolute URL.
 */
export type RelativeFilePath = readonly string[];

type CheckpointOutput = SynthesizeCheckpoint['outputs'][number];
type CheckpointFailure = SynthesizeCheckpoint['failures'][number];

export interface ContactSheetEntry extends Pick<CheckpointOutput, 'sourcePath' | 'variant'> {
  /** The generated image. */
  image: RelativeFilePath;
  /** The reference image it was made from. */
  source: RelativeFilePath;
  prompt?: string;
  model?: string;
  imageConfig?: ImageSidecar['imageConfig'];
  width?: number;
  height?: number;
  warnings: readonly string[];
}

export interface ContactSheetFailure extends Pick<CheckpointFailure, 'sourcePath' | 'variant' | 'reason' | 'retryable' | 'fix'> {
  source: RelativeFilePath;
}

export const contactSheetFileName = 'index.html';

const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For HTML text and (double- or single-quoted) attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => htmlEscapes[character] as string);
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => Object.keys(htmlEscapes).find((character) => htmlEscapes[character] === entity) as string);
}

/**
 * A relative URL, every segment percent-encoded (`#`, `?`, `%`, `:` and spaces included), empty segments dropped so
 * it never starts with `/`. A lone surrogate, which encodeURIComponent throws on, becomes U+FFFD.
 */
export function formatRelativeHref(path: RelativeFilePath): string {
  return path
    .filter((segment) => segment !== '' && segment !== '.')
    .map((segment) => encodeURIComponent(segment.replace(/\p{Cs}/gu, '\uFFFD')))
    .join('/');
}

function formatCount(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function describeVariant(variant: number): string {
  return `variant ${variant}`;
}

const style = `
:root { color-scheme: light dark; --line: #8884; --muted: #777; --warn: #b36b00; --fail: #c0392b; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; }
header { padding: 1rem 1.5rem; border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 .25rem; font-size: 1.3rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 1.5rem .75rem; }
.counts { margin: 0; color: var(--muted); }
.grid { list-style: none; margin: 0; padding: 0 1.5rem 1.5rem; display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: 1rem; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .75rem; min-width: 0; content-visibility: auto; contain-intrinsic-size: auto 28rem; }
.pair { display: grid; grid-template-columns: 2fr 1fr; gap: .5rem; align-items: start; }
figure { margin: 0; min-width: 0; }
figure img { display: block; width: 100%; height: auto; max-height: 20rem; object-fit: contain; background: #8881; }
figcaption { color: var(--muted); font-size: .8rem; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .1rem .75rem; margin: .5rem 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
details pre { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .8rem; max-height: 24rem; overflow: auto; padding: .5rem; background: #8881; }
summary { cursor: pointer; }
.warnings { color: var(--warn); margin: .5rem 0 0; padding-left: 1.2rem; }
.failures { border-collapse: collapse; margin: 0 1.5rem; }
.failures th, .failures td { text-align: left; vertical-align: top; padding: .3rem .75rem .3rem 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
.failures .reason { color: var(--fail); }
.empty { margin: 0 1.5rem; color: var(--muted); }
`;

function renderLink(options: { path: RelativeFilePath; content: string }): string {
  const href = formatRelativeHref(options.path);
  return href === '' ? options.content : `<a href="${escapeHtml(href)}">${options.content}</a>`;
}

function renderImage(options: { path: RelativeFilePath; alt: string; width?: number; height?: number }): string {
  const href = formatRelativeHref(options.path);
  if (href === '') return '';
  const size = options.width !== undefined && options.height !== undefined ? ` width="${options.width}" height="${options.height}"` : '';
  return `<a href="${escapeHtml(href)}"><img src="${escapeHtml(href)}" alt="${escapeHtml(options.alt)}"${size} loading="lazy" decoding="async"></a>`;
}

function renderEntry(entry: ContactSheetEntry): string {
  const label = `${entry.sourcePath}, ${describeVariant(entry.variant)}`;
  const imageName = entry.image.at(-1) ?? '';
  const size = entry.width !== undefined && entry.height !== undefined ? `${entry.width}×${entry.height}` : undefined;
  const details: [string, string][] = [
    ['source', renderLink({ path: entry.source, content: escapeHtml(entry.sourcePath) })],
    ['variant', String(entry.variant)],
    ['model', escapeHtml(entry.model ?? '—')],
    ['aspect', escapeHtml(entry.imageConfig ? `${entry.imageConfig.aspectRatio}, ${entry.imageConfig.imageSize}` : '—')],
    ['size', escapeHtml(size ?? '—')],
  ];
  return [
    `<li class="card">`,
    `<div class="pair">`,
    `<figure>${renderImage({ path: entry.image, alt: `generated: ${label}`, ...(entry.width !== undefined ? { width: entry.width } : {}), ...(entry.height !== undefined ? { height: entry.height } : {}) })}<figcaption>${escapeHtml(imageName)}</figcaption></figure>`,
    `<figure>${renderImage({ path: entry.source, alt: `source: ${entry.sourcePath}` })}<figcaption>source</figcaption></figure>`,
    `</div>`,
    `<dl>${details.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join('')}</dl>`,
    entry.prompt !== undefined ? `<details><summary>prompt</summary><pre>${escapeHtml(entry.prompt)}</pre></details>` : `<p class="empty">no prompt recorded</p>`,
    entry.warnings.length > 0 ? `<ul class="warnings">${entry.warnings.map((warning) => `<li>${escapeHtml(warning)}</li>`).join('')}</ul>` : '',
    `</li>`,
  ].join('');
}

function renderFailures(failures: readonly ContactSheetFailure[]): string {
  if (failures.length === 0) return '';
  const rows = failures.map(
    (failure) =>
      `<tr><td>${renderLink({ path: failure.source, content: escapeHtml(failure.sourcePath) })}</td><td>${failure.variant}</td><td class="reason">${escapeHtml(failure.reason)}</td><td>${failure.retryable ? 'yes' : 'no'}</td><td>${escapeHtml(failure.fix)}</td></tr>`,
  );
  return [
    `<section id="failures"><h2>Failed (${failures.length})</h2>`,
    `<table class="failures"><thead><tr><th>source</th><th>variant</th><th>reason</th><th>retryable</th><th>what to do</th></tr></thead>`,
    `<tbody>\n${rows.join('\n')}\n</tbody></table></section>`,
  ].join('\n');
}

/**
 * Pure: one self-contained HTML page (no script, no external resource) that works opened straight from disk. Images
 * load lazily and cards off screen are not laid out, so thousands of entries stay usable. Failures come first: they
 * are what needs doing.
 */
export function renderContactSheet(options: { title: string; generatedAt: string; entries: readonly ContactSheetEntry[]; failures: readonly ContactSheetFailure[] }): string {
  const title = escapeHtml(options.title);
  const counts = `${formatCount(options.entries.length, 'image')}, ${options.failures.length} failed · generated ${options.generatedAt}`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="chargen">',
    `<meta name="generated-at" content="${escapeHtml(options.generatedAt)}">`,
    `<title>${title}</title>`,
    `<style>${style}</style>`,
    '</head>',
    '<body>',
    `<header><h1>${title}</h1><p class="counts">${escapeHtml(counts)}</p></header>`,
    '<main>',
    renderFailures(options.failures),
    `<section id="images"><h2>Images (${options.entries.length})</h2>`,
    options.entries.length > 0 ? `<ol class="grid">\n${options.entries.map(renderEntry).join('\n')}\n</ol>` : '<p class="empty">No images yet.</p>',
    '</section>',
    '</main>',
    '</body>',
    '</html>',
  ]
    .filter((line) => line !== '')
    .join('\n')
    .concat('\n');
}

function readGeneratedAt(document: string): string | undefined {
  const match = /<meta name="generated-at" content="([^"]*)">/.exec(document);
  return match?.[1] === undefined ? undefined : unescapeHtml(match[1]);
}

function toRelativeFilePath(options: { from: string; to: string }): RelativeFilePath {
  return relative(options.from, options.to).split(sep);
}

function compareByPlace(left: { sourcePath: string; variant: number }, right: { sourcePath: string; variant: number }): number {
  return compareText(left.sourcePath, right.sourcePath) || left.variant - right.variant;
}

/**
 * What one output shows. Its sidecar says everything; one that is missing, unreadable or for another request leaves
 * the image listed with what the checkpoint knows, and the prompt compiled for that source and variant, if any.
 */
async function buildEntry(options: {
  output: CheckpointOutput;
  inputDirectory: string;
  outputDirectory: string;
  readPrompts: () => Promise<ReadonlyMap<string, GenerationPrompt>>;
}): Promise<ContactSheetEntry> {
  const { output, outputDirectory } = options;
  const place = {
    sourcePath: output.sourcePath,
    variant: output.variant,
    image: [output.image],
    source: toRelativeFilePath({ from: outputDirectory, to: join(options.inputDirectory, output.sourcePath) }),
  };
  const sidecar = await readImageSidecar(join(outputDirectory, output.sidecar));
  if (sidecar?.key === output.key) {
    return {
      ...place,
      ...(sidecar.prompt !== undefined ? { prompt: sidecar.prompt } : {}),
      ...(sidecar.model !== undefined ? { model: sidecar.model } : {}),
      ...(sidecar.imageConfig !== undefined ? { imageConfig: sidecar.imageConfig } : {}),
      width: sidecar.image.width,
      height: sidecar.image.height,
      warnings: sidecar.warnings,
    };
  }
  const compiled = (await options.readPrompts()).get(formatEntryId(output));
  const warnings = [`its sidecar ${output.sidecar} is missing or does not describe this image${compiled ? '; the prompt shown is the one compiled now' : ''}`];
  return compiled ? { ...place, prompt: compiled.prompt, model: compiled.model, imageConfig: compiled.imageConfig, warnings } : { ...place, warnings };
}

/** Files writeFileAtomic leaves when a run is killed mid-write; the workspace lock says no other run is writing now. */
async function removeTemporarySheets(outputDirectory: string): Promise<void> {
  const pattern = new RegExp(`^\\.${contactSheetFileName.replace('.', '\\.')}\\.[0-9a-f]{12}\\.tmp$`);
  for (const name of await readdir(outputDirectory).catch(() => [] as string[])) {
    if (pattern.test(name)) await rm(join(outputDirectory, name), { force: true });
  }
}

/**
 * Writes `index.html` in the output folder from the synthesize checkpoint and the sidecars; nothing (undefined) when
 * there is no checkpoint. A sheet that would differ only in its time is left alone, so a run with nothing to do
 * changes nothing in the output folder.
 */
export async function writeContactSheet(options: { workspaceDirectory: string; inputDirectory: string; outputDirectory: string; now: () => number }): Promise<{ path: string; entries: number } | undefined> {
  const checkpoint = await readSynthesizeCheckpoint(options.workspaceDirectory);
  if (!checkpoint) return undefined;
  const { outputDirectory, inputDirectory } = options;
  let prompts: Promise<ReadonlyMap<string, GenerationPrompt>> | undefined;
  // Read only when a sidecar is missing; a damaged prompts file just means no prompt on the sheet.
  const readPrompts = () =>
    (prompts ??= readPromptsCheckpoint(options.workspaceDirectory)
      .catch(() => undefined)
      .then((checkpoint) => new Map((checkpoint?.prompts ?? []).map((prompt) => [formatEntryId({ sourcePath: prompt.sourceImage.path, variant: prompt.variant }), prompt]))));
  const entries = await mapWithConcurrency({
    items: [...checkpoint.outputs].sort(compareByPlace),
    concurrency: 16,
    work: (output) => buildEntry({ output, inputDirectory, outputDirectory, readPrompts }),
  });
  const failures: ContactSheetFailure[] = [...checkpoint.failures].sort(compareByPlace).map((failure) => ({
    sourcePath: failure.sourcePath,
    variant: failure.variant,
    reason: failure.reason,
    retryable: failure.retryable,
    fix: failure.fix,
    source: toRelativeFilePath({ from: outputDirectory, to: join(inputDirectory, failure.sourcePath) }),
  }));
  const content = { title: `chargen: ${basename(outputDirectory)}`, entries, failures };
  const path = join(outputDirectory, contactSheetFileName);

  await removeTemporarySheets(outputDirectory);
  const previous = await readFile(path).catch(() => undefined);
  if (previous !== undefined && !previous.includes('<meta name="generator" content="chargen">')) {
    // An index.html of the user's own (an output folder shared with a site, say) is never written over.
    throw new Error(`${path} is not a chargen contact sheet, so it is left as it is; move it away to get one`);
  }
  const previousGeneratedAt = previous === undefined ? undefined : readGeneratedAt(previous.toString('utf8'));
  // Bytes, not strings: a lone surrogate in a prompt is written as U+FFFD and would never compare equal as text.
  if (previous !== undefined && previousGeneratedAt !== undefined && Buffer.from(renderContactSheet({ ...content, generatedAt: previousGeneratedAt })).equals(previous)) {
    return { path, entries: entries.length };
  }
  await writeFileAtomic(path, renderContactSheet({ ...content, generatedAt: new Date(options.now()).toISOString() }));
  return { path, entries: entries.length };
}
