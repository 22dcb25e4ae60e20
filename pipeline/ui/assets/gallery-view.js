// The gallery view: every item as a tile, loaded a page at a time as it scrolls, and one item in detail.
import { askConfirmation } from './actions.js';
import { byId, callJson, chooseStateClass, createElement, page, showProblem } from './page.js';
import { showVersionsAndForm } from './versions-view.js';

const pageSize = 60;

/** Where a source cannot be shown: its format by name (HEIC), or, for bytes that turned out to be no image, just that. */
function createPlaceholder(source, known) {
  const format = /\.([a-z0-9]+)$/i.exec(source)?.[1]?.toUpperCase() ?? 'FILE';
  return createElement('div', { className: 'no-preview', text: known ? `${format}: no preview in a browser` : 'no preview' });
}

/**
 * The tile's picture, as a small WebP thumbnail (the full image only in the detail view): the image made, else the
 * source when a browser can show it (the server says, from its bytes), else a placeholder; a source that fails to
 * load (an input that is no image) turns into one too.
 */
function createTilePicture(item) {
  if (!item.imageUrl && !item.sourcePreview) return createPlaceholder(item.source, true);
  const image = createElement('img', { attributes: { alt: item.source, loading: 'lazy', decoding: 'async', src: item.thumbnailUrl ?? item.sourceThumbnailUrl } });
  image.addEventListener('error', () => image.replaceWith(createPlaceholder(item.source, false)), { once: true });
  return image;
}

function createGalleryCard(item) {
  const card = createElement('button', { className: `card ${item.status}`, attributes: { type: 'button', 'data-id': item.id, 'data-status': item.status }, title: item.reason ?? item.source }, [
    createTilePicture(item),
    createElement('div', { className: 'caption' }, [
      createElement('span', { text: item.shot ? `${item.source} · ${item.shot}` : item.variant > 1 ? `${item.source} #${item.variant}` : item.source }),
      createElement('span', { className: `badge ${chooseStateClass(item.status)}`, text: item.status }),
    ]),
    ...(item.status === 'failed' && item.reason ? [createElement('div', { className: 'reason', text: item.failedIn === 'analyze' ? `analysis: ${item.reason}` : item.reason })] : []),
  ]);
  card.addEventListener('click', () => void openDetail(item.id));
  return card;
}

export async function loadMore() {
  const gallery = page.gallery;
  if (gallery.loading || (gallery.items.length >= gallery.total && gallery.items.length > 0)) return;
  gallery.loading = true;
  const generation = gallery.generation;
  try {
    const query = new URLSearchParams({ offset: String(gallery.items.length), limit: String(pageSize) });
    if (gallery.status) query.set('status', gallery.status);
    const result = await callJson(`/api/gallery?${query}`);
    if (generation !== gallery.generation) return;
    gallery.total = result.total;
    gallery.items.push(...result.items);
    byId('grid').append(...result.items.map(createGalleryCard));
    byId('grid-empty').hidden = gallery.total > 0;
  } catch (error) {
    showProblem(error.message);
  } finally {
    if (generation === gallery.generation) gallery.loading = false;
  }
  // A tall window can show the sentinel again at once: keep filling until it scrolls.
  if (generation === gallery.generation && gallery.items.length < gallery.total && isNearEnd()) void loadMore();
}

function isNearEnd() {
  return byId('grid-end').getBoundingClientRect().top < window.innerHeight + 600;
}

export async function reloadGallery() {
  byId('gallery-changed').hidden = true;
  const gallery = page.gallery;
  gallery.generation += 1;
  gallery.items = [];
  gallery.total = 0;
  gallery.loading = false;
  byId('grid').replaceChildren();
  await loadMore();
}

async function openDetail(id) {
  let detail;
  try {
    detail = await callJson(`/api/gallery/${id}`);
  } catch (error) {
    await askConfirmation('Cannot show this image', error.message);
    return;
  }
  byId('detail-title').textContent = detail.shot ? `${detail.source} (${detail.shot})` : detail.variant > 1 ? `${detail.source} (variant ${detail.variant})` : detail.source;
  const image = byId('detail-image');
  image.hidden = !detail.imageUrl;
  if (detail.imageUrl) image.src = detail.imageUrl;
  else image.removeAttribute('src');
  byId('detail-no-image').hidden = Boolean(detail.imageUrl);
  for (const [id, url] of [['detail-download', detail.downloadUrl], ['detail-download-character', detail.characterDownloadUrl]]) {
    const link = byId(id);
    link.hidden = !url;
    if (url) link.href = url;
    else link.removeAttribute('href');
  }
  byId('detail-no-image').textContent = detail.status === 'failed' ? `Failed: ${detail.reason ?? ''}` : 'Not made yet.';
  const source = byId('detail-source');
  source.hidden = !detail.sourcePreview;
  if (detail.sourcePreview) source.src = detail.sourceUrl;
  else source.removeAttribute('src');
  const placeholder = byId('detail-source-placeholder');
  placeholder.hidden = detail.sourcePreview;
  placeholder.replaceChildren(createPlaceholder(detail.source, true));
  // Bytes that are no image (an input analysis refused): say so rather than show a broken image.
  source.onerror = () => {
    source.hidden = true;
    placeholder.hidden = false;
    placeholder.replaceChildren(createPlaceholder(detail.source, false));
  };
  const facts = [
    ['status', detail.failedIn ? `${detail.status} in ${detail.failedIn}` : detail.status],
    ['model', detail.model],
    ['image', detail.imageConfig ? `${detail.imageConfig.aspectRatio}, ${detail.imageConfig.imageSize}` : undefined],
    ['size', detail.width ? `${detail.width} × ${detail.height}` : undefined],
    ['finish reason', detail.finishReason],
    ['references', detail.references && detail.references.length > 1 ? detail.references.join(', ') : undefined],
    ['reason', detail.reason],
    ['what to do', detail.fix],
    ['warnings', detail.warnings.length > 0 ? detail.warnings.join('; ') : undefined],
  ].filter(([, value]) => value !== undefined && value !== '');
  byId('detail-facts').replaceChildren(...facts.flatMap(([name, value]) => [createElement('dt', { text: name }), createElement('dd', { text: value })]));
  byId('detail-prompt').textContent = detail.prompt ?? '(no prompt compiled)';
  byId('detail-analysis').textContent = detail.analysis ? JSON.stringify(detail.analysis, null, 2) : '(no analysis record)';
  byId('detail').showModal();
  showVersionsAndForm(detail);
}
