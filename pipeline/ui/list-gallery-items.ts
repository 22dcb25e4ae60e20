import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { AnalysisRecord } from '../../schemas/analysis.ts';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { compareText } from '../../lib/compare-text.ts';
import { readImageSidecar } from '../../stages/synthesize/image-sidecar.ts';
import { describeSourcePreview } from '../../lib/media/describe-source-preview.ts';
import type { WorkspaceFiles } from './read-workspace-files.ts';
import { formatEntryId, toOutputEntry } from '../../stages/synthesize/core/plan-output-names.ts';

export const galleryStatuses = ['done', 'failed', 'pending'] as const;
export type GalleryStatus = (typeof galleryStatuses)[number];

/** One image of the gallery, by the key of its request: made, given up on, or still to make. */
export interface GalleryItem {
  id: string;
  source: string;
  variant: number;
  /** The named shot, as the prompts compiled now say. */
  shot?: string;
  status: GalleryStatus;
  /** File name in the output folder, when made. */
  image?: string;
  reason?: string;
  retryable?: boolean;
  /** Where it failed: an input analysis could not take has no prompt and no image, only its reason. */
  failedIn?: 'analyze' | 'synthesize';
  /** Whether a browser can show the source image (HEIC and HEIF it cannot), by its bytes when analysis saw them. */
  sourcePreview: boolean;
  /** The source's picture in the input folder, when it is not `source` itself: a folder character's first reference. */
  sourceFile?: string;
}

export interface GalleryDetail extends GalleryItem {
  prompt?: string;
  model?: string;
  imageConfig?: { aspectRatio: string; imageSize: string };
  analysis?: AnalysisRecord;
  fix?: string;
  width?: number;
  height?: number;
  finishReason?: string;
  /** The character's references the image request carried (or will), in order: input-folder paths. */
  references?: string[];
  /** The request's seed (what the regenerate form starts from). */
  seed?: number;
  warnings: string[];
}

/** One tile per source image and variant: the synthesis request's key differs from the prompt's. */
function formatSlot(source: string, variant: number): string {
  return `${variant}:${source}`;
}

/**
 * The request key synthesize would send for a prompt now, to tell an image made from an older prompt; or every key
 * whose image is current for it (an image made before chargen sent seeds stands in for the seeded request).
 */
export type RequestKeyOf = (prompt: GenerationPrompt) => string | readonly string[];

const staleReason = 'made from an earlier prompt: the next run makes it again';

/** An input that failed analysis has no request key: its tile's id is a hash of its path, in the same 64-hex form. */
function formatAnalysisFailureId(sourcePath: string): string {
  return createHash('sha256').update(`analysis-failure\0${sourcePath}`).digest('hex');
}

function collectItems(files: WorkspaceFiles, requestKeyOf: RequestKeyOf): GalleryItem[] {
  const current = new Map<string, { prompt: GenerationPrompt; requestKeys: readonly string[] }>();
  for (const prompt of files.prompts?.prompts ?? []) {
    // A version the artist chose is current too: the next run keeps it.
    const chosen = files.chosen?.get(formatEntryId(toOutputEntry(prompt)));
    current.set(formatSlot(prompt.sourceImage.path, prompt.variant), { prompt, requestKeys: [requestKeyOf(prompt), ...(chosen ? [chosen] : [])].flat() });
  }
  const isStale = (slot: string, key: string) => {
    const expected = current.get(slot);
    return expected !== undefined && !expected.requestKeys.includes(key);
  };
  const items = new Map<string, Omit<GalleryItem, 'sourcePreview'>>();
  for (const output of files.synthesis?.outputs ?? []) {
    const slot = formatSlot(output.sourcePath, output.variant);
    const stale = isStale(slot, output.key);
    items.set(slot, { id: output.key, source: output.sourcePath, variant: output.variant, status: stale ? 'pending' : 'done', image: output.image, ...(stale ? { reason: staleReason } : {}) });
  }
  for (const failure of files.synthesis?.failures ?? []) {
    const slot = formatSlot(failure.sourcePath, failure.variant);
    if (items.has(slot) || isStale(slot, failure.key)) continue;
    items.set(slot, { id: failure.key, source: failure.sourcePath, variant: failure.variant, status: 'failed', reason: failure.reason, retryable: failure.retryable, failedIn: 'synthesize' });
  }
  for (const failure of files.analysis?.failures ?? []) {
    const slot = formatSlot(failure.sourcePath, 1);
    if (items.has(slot)) continue;
    items.set(slot, { id: formatAnalysisFailureId(failure.sourcePath), source: failure.sourcePath, variant: 1, status: 'failed', reason: failure.reason, retryable: failure.retryable === true, failedIn: 'analyze' });
  }
  // Prompts compiled since the last synthesis are images still to make.
  for (const [slot, { prompt }] of current) {
    if (!items.has(slot)) items.set(slot, { id: prompt.key, source: prompt.sourceImage.path, variant: prompt.variant, status: 'pending' });
  }
  const mimeTypes = new Map<string, string>();
  const sourceFiles = new Map<string, string>();
  for (const { prompt } of current.values()) {
    mimeTypes.set(prompt.sourceImage.path, prompt.sourceImage.mimeType);
    if (prompt.references?.[0]) sourceFiles.set(prompt.sourceImage.path, prompt.references[0].path);
  }
  for (const record of files.analysis?.records ?? []) {
    mimeTypes.set(record.sourcePath, record.mimeType);
    if (record.references?.[0]) sourceFiles.set(record.sourcePath, record.references[0].path);
  }
  const previewOf = (source: string) => {
    const mimeType = mimeTypes.get(source);
    return describeSourcePreview({ path: source, ...(mimeType ? { mimeType } : {}) }).shown;
  };
  const shotOf = (item: Omit<GalleryItem, 'sourcePreview'>) => current.get(formatSlot(item.source, item.variant))?.prompt.shot;
  return [...items.values()]
    .map((item) => {
      const shot = shotOf(item);
      const sourceFile = sourceFiles.get(item.source);
      return { ...item, ...(shot !== undefined ? { shot } : {}), sourcePreview: previewOf(item.source), ...(sourceFile !== undefined && sourceFile !== item.source ? { sourceFile } : {}) };
    })
    .sort((left, right) => compareText(left.source, right.source) || left.variant - right.variant || compareText(left.id, right.id));
}

/**
 * The gallery's items in a stable order, built again only when a checkpoint changed (the reader hands back the same
 * objects until then), so paging through 100k images does not sort them on every request.
 */
export function createGalleryIndex(options: { requestKeyOf: RequestKeyOf }): (files: WorkspaceFiles) => GalleryItem[] {
  let last: { analysis: unknown; prompts: unknown; synthesis: unknown; chosen: unknown; items: GalleryItem[] } | undefined;
  return (files) => {
    if (last === undefined || last.analysis !== files.analysis || last.prompts !== files.prompts || last.synthesis !== files.synthesis || last.chosen !== files.chosen) {
      last = { analysis: files.analysis, prompts: files.prompts, synthesis: files.synthesis, chosen: files.chosen, items: collectItems(files, options.requestKeyOf) };
    }
    return last.items;
  };
}

/** Pure: how many tiles of each status. */
export function countGalleryItems(items: readonly GalleryItem[]): { total: number } & Record<GalleryStatus, number> {
  const counts = { total: items.length, done: 0, failed: 0, pending: 0 };
  for (const item of items) counts[item.status] += 1;
  return counts;
}

/** Pure: one page of the items, of one status or all. */
export function selectGalleryPage(items: readonly GalleryItem[], options: { status?: GalleryStatus; offset: number; limit: number }): { total: number; offset: number; items: GalleryItem[] } {
  const matching = options.status ? items.filter((item) => item.status === options.status) : items;
  return { total: matching.length, offset: options.offset, items: matching.slice(options.offset, options.offset + options.limit) };
}

/** Everything behind one image: its sidecar when made, else what the checkpoints say. */
export async function readGalleryDetail(options: { files: WorkspaceFiles; item: GalleryItem; outputDirectory: string; sidecar?: string }): Promise<GalleryDetail> {
  const { files, item } = options;
  const prompt = files.prompts?.prompts.find((candidate) => candidate.sourceImage.path === item.source && candidate.variant === item.variant);
  const analyzed = files.analysis?.records.find((record) => record.sourcePath === item.source);
  const failure =
    item.failedIn === 'analyze'
      ? files.analysis?.failures.find((candidate) => candidate.sourcePath === item.source)
      : files.synthesis?.failures.find((candidate) => candidate.key === item.id);
  const sidecar = options.sidecar ? await readImageSidecar(join(options.outputDirectory, options.sidecar)) : undefined;
  const promptText = sidecar?.prompt ?? prompt?.prompt;
  const model = sidecar?.model ?? prompt?.model;
  const imageConfig = sidecar?.imageConfig ?? prompt?.imageConfig;
  const analysis = sidecar?.analysis ?? analyzed?.record;
  const seed = sidecar ? sidecar.seed?.value : prompt?.seed?.value;
  const references = sidecar?.references?.map((reference) => reference.path) ?? prompt?.references?.map((reference) => reference.path) ?? analyzed?.references?.map((reference) => reference.path);
  return {
    ...item,
    ...(promptText !== undefined ? { prompt: promptText } : {}),
    ...(model !== undefined ? { model } : {}),
    ...(imageConfig !== undefined ? { imageConfig } : {}),
    ...(analysis !== undefined ? { analysis } : {}),
    ...(failure ? { fix: failure.fix } : {}),
    ...(sidecar ? { width: sidecar.image.width, height: sidecar.image.height, finishReason: sidecar.finishReason } : {}),
    ...(references !== undefined ? { references } : {}),
    ...(seed !== undefined ? { seed } : {}),
    warnings: sidecar?.warnings ?? [],
  };
}
