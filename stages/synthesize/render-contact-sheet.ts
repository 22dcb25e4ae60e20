import type { ImageSidecar } from './image-sidecar.ts';
import { describeSourcePreview } from '../../lib/media/describe-source-preview.ts';

/**
 * A file's path from the folder the sheet is in, one item per path segment (`['..', 'input_images', 'bard.png']`),
 * not encoded: the sheet encodes each segment itself, so no data can turn into a scheme or an absolute URL.
 */
export type RelativeFilePath = readonly string[];

export interface ContactSheetEntry {
  sourcePath: string;
  variant: number;
  /** The named shot, as its sidecar says. */
  shot?: string;
  /** The seed its request carried, as its sidecar says. */
  seed?: number;
  /** The generated image. */
  image: RelativeFilePath;
  /** The reference image it was made from. */
  source: RelativeFilePath;
  /** What the source's bytes are, as analysis found; a browser cannot show every format (HEIC). */
  sourceMimeType?: string;
  prompt?: string;
  model?: string;
  imageConfig?: ImageSidecar['imageConfig'];
  width?: number;
  height?: number;
  warnings: readonly string[];
}

/** An input that failed: in analysis (no variant: it never got a prompt), or one of its images in synthesis. */
export interface ContactSheetFailure {
  stage: 'analyze' | 'synthesize';
  sourcePath: string;
  variant?: number;
  /** The named shot that failed (shown in the variant's column). */
  shot?: string;
  reason: string;
  retryable: boolean;
  fix: string;
  source: RelativeFilePath;
}

const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For HTML text and (double- or single-quoted) attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => htmlEscapes[character] as string);
}

export function unescapeHtml(text: string): string {
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
.failures th, .failures td { text-align: left; vertical-align: top; padding: .3rem .75rem .3rem 0; border-bottom: 1px solid var(--line); overflow-wrap: break-word; }
.failures th { white-space: nowrap; }
.failures .reason { color: var(--fail); }
.empty { margin: 0 1.5rem; color: var(--muted); }
.no-preview { display: flex; align-items: center; justify-content: center; text-align: center; aspect-ratio: 3 / 4; max-height: 20rem; background: #8881; color: var(--muted); font-size: .8rem; text-decoration: none; }
`;

const monthNames = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Pure: `2 January 2025, 03:04 UTC` (UTC, so the same sheet reads the same wherever it was made); as given if no time. */
export function formatReadableTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const twoDigits = (value: number) => String(value).padStart(2, '0');
  return `${date.getUTCDate()} ${monthNames[date.getUTCMonth()]} ${date.getUTCFullYear()}, ${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())} UTC`;
}

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

/** The source's thumbnail, or a placeholder linking to the file when a browser cannot show its format. */
function renderSource(entry: ContactSheetEntry): string {
  const preview = describeSourcePreview({ path: entry.sourcePath, ...(entry.sourceMimeType ? { mimeType: entry.sourceMimeType } : {}) });
  if (preview.shown) return renderImage({ path: entry.source, alt: `source: ${entry.sourcePath}` });
  const href = formatRelativeHref(entry.source);
  return href === '' ? '' : `<a href="${escapeHtml(href)}" class="no-preview">${escapeHtml(preview.format)}<br>no preview in a browser</a>`;
}

function renderEntry(entry: ContactSheetEntry): string {
  const label = `${entry.sourcePath}, ${entry.shot !== undefined ? `shot ${entry.shot}` : describeVariant(entry.variant)}`;
  const imageName = entry.image.at(-1) ?? '';
  const size = entry.width !== undefined && entry.height !== undefined ? `${entry.width}×${entry.height}` : undefined;
  const details: [string, string][] = [
    ['source', renderLink({ path: entry.source, content: escapeHtml(entry.sourcePath) })],
    entry.shot !== undefined ? ['shot', escapeHtml(entry.shot)] : ['variant', String(entry.variant)],
    ...(entry.seed !== undefined ? [['seed', String(entry.seed)] as [string, string]] : []),
    ['model', escapeHtml(entry.model ?? '—')],
    ['aspect', escapeHtml(entry.imageConfig ? `${entry.imageConfig.aspectRatio}, ${entry.imageConfig.imageSize}` : '—')],
    ['size', escapeHtml(size ?? '—')],
  ];
  return [
    `<li class="card">`,
    `<div class="pair">`,
    `<figure>${renderImage({ path: entry.image, alt: `generated: ${label}`, ...(entry.width !== undefined ? { width: entry.width } : {}), ...(entry.height !== undefined ? { height: entry.height } : {}) })}<figcaption>${escapeHtml(imageName)}</figcaption></figure>`,
    `<figure>${renderSource(entry)}<figcaption>source</figcaption></figure>`,
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
      `<tr><td>${renderLink({ path: failure.source, content: escapeHtml(failure.sourcePath) })}</td><td>${failure.stage}</td><td>${failure.shot !== undefined ? escapeHtml(failure.shot) : (failure.variant ?? '—')}</td><td class="reason">${escapeHtml(failure.reason)}</td><td>${failure.retryable ? 'yes' : 'no'}</td><td>${escapeHtml(failure.fix)}</td></tr>`,
  );
  return [
    `<section id="failures"><h2>Failed (${failures.length})</h2>`,
    `<table class="failures"><thead><tr><th>source</th><th>failed in</th><th>variant</th><th>reason</th><th>retryable</th><th>what to do</th></tr></thead>`,
    `<tbody>\n${rows.join('\n')}\n</tbody></table></section>`,
  ].join('\n');
}

/**
 * Pure: one self-contained HTML page (no script, no external resource) that works opened straight from disk. Images
 * load lazily and cards off screen are not laid out, so thousands of entries stay usable. Failures come first (inputs
 * that failed analysis as well as images that failed): they are what needs doing.
 */
export function renderContactSheet(options: {
  title: string;
  generatedAt: string;
  entries: readonly ContactSheetEntry[];
  failures: readonly ContactSheetFailure[];
  /** Every image made, when `entries` are only the first of them (a sheet of 100,000 would be too large to open). */
  totalImages?: number;
}): string {
  const title = escapeHtml(options.title);
  const total = Math.max(options.totalImages ?? 0, options.entries.length);
  const counts = `${formatCount(total, 'image')}, ${options.failures.length} failed · made `;
  const more = total - options.entries.length;
  const heading = more > 0 ? `Images (${total}; the first ${options.entries.length} here)` : `Images (${total})`;
  const moreNote = more > 0 ? `<p class="empty">${escapeHtml(`… and ${formatCount(more, 'more image')}: \`chargen ui\` shows them all, a page at a time.`)}</p>` : '';
  const made = `<time datetime="${escapeHtml(options.generatedAt)}">${escapeHtml(formatReadableTime(options.generatedAt))}</time>`;
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
    `<header><h1>${title}</h1><p class="counts">${escapeHtml(counts)}${made}</p></header>`,
    '<main>',
    renderFailures(options.failures),
    `<section id="images"><h2>${escapeHtml(heading)}</h2>`,
    options.entries.length > 0 ? `<ol class="grid">\n${options.entries.map(renderEntry).join('\n')}\n</ol>` : '<p class="empty">No images yet.</p>',
    moreNote,
    '</section>',
    '</main>',
    '</body>',
    '</html>',
  ]
    .filter((line) => line !== '')
    .join('\n')
    .concat('\n');
}
