// The detail view's part of the artist's loop: the image's versions side by side (choose one for the output folder),
// and the form that asks it again (prompt, record field, shot, seed, frame) by adding it to the regenerate queue.
import { askConfirmation } from './actions.js';
import { byId, callJson, createElement, page, postJson } from './page.js';

/** The image the detail view shows now: its source and variant, and what it was made from. */
let shown;
/** Told when a version was chosen (app.js reloads the gallery: the tile's image is now the chosen one). */
let onChosen = () => undefined;
const listFields = new Set(['visual_traits', 'notable_features', 'colour_palette']);

function fillSelect(select, values, first) {
  select.replaceChildren(...[first, ...values.map((value) => [value, value])].filter(Boolean).map(([value, text]) => createElement('option', { text, attributes: { value } })));
}

function createVersionCard(version) {
  const choose = createElement('button', { className: version.chosen ? '' : 'primary', text: version.chosen ? 'Chosen' : 'Choose this', attributes: { type: 'button', 'data-choose': String(version.id) } });
  choose.disabled = version.chosen;
  choose.addEventListener('click', () => void chooseVersion(version));
  return createElement('div', { className: `version${version.chosen ? ' chosen' : ''}`, attributes: { 'data-version': String(version.id), 'data-label': version.label } }, [
    createElement('a', { attributes: { href: version.imageUrl, target: '_blank', rel: 'noopener', title: 'the full image' } }, [
      createElement('img', { attributes: { src: version.thumbnailUrl, alt: version.label, loading: 'lazy' } }),
    ]),
    createElement('p', { text: version.label }),
    createElement('p', { className: 'muted', text: [version.aspectRatio, version.width ? `${version.width} × ${version.height}` : undefined, version.image].filter(Boolean).join(' · ') }),
    choose,
  ]);
}

export async function refreshVersions() {
  if (!shown || !byId('detail').open) return;
  // Every shot of the character side by side, or this image's versions only.
  const query = new URLSearchParams(byId('versions-character').checked ? { source: shown.source } : { source: shown.source, variant: String(shown.variant) });
  const { versions } = await callJson(`/api/versions?${query}`);
  byId('versions-box').hidden = versions.length === 0;
  byId('versions').replaceChildren(...versions.map(createVersionCard));
}

async function chooseVersion(version) {
  const yes = await askConfirmation(`Choose ${version.label.split(' · ')[0]}?`, 'It is copied into the output folder with its sidecar, in place of the image there now (which stays in the workspace as a version). `chargen run` then keeps it and never makes this image again.');
  if (!yes) return;
  try {
    const chosen = await postJson('/api/versions/choose', { version: version.id });
    // The detail's image is the output folder's, which is now this version.
    byId('detail-image').src = version.imageUrl;
    await refreshVersions();
    byId('regenerate-note').textContent = `Chosen: ${chosen.image}`;
    onChosen();
  } catch (error) {
    await askConfirmation('Not chosen', error.message);
  }
}

function readEdits() {
  const edits = {};
  const prompt = byId('regenerate-prompt').value.trim();
  if (prompt !== '' && prompt !== (shown.prompt ?? '').trim()) edits.prompt = prompt;
  const seed = byId('regenerate-seed').value.trim();
  if (seed !== '' && Number(seed) !== shown.seed) edits.seed = Number(seed);
  const aspect = byId('regenerate-aspect').value;
  if (aspect !== '' && aspect !== shown.imageConfig?.aspectRatio) edits.aspectRatio = aspect;
  const shot = byId('regenerate-shot').value;
  if (shot !== '') edits.shot = shot;
  const field = byId('regenerate-field').value;
  if (field !== '') {
    const raw = byId('regenerate-value').value.trim();
    edits.record = { [field]: listFields.has(field) ? raw.split(';').map((part) => part.trim()).filter(Boolean) : field === 'apparent_age' ? Number(raw) : raw };
  }
  return edits;
}

async function addToBatch() {
  const note = byId('regenerate-note');
  try {
    const added = await postJson('/api/regenerate/queue', { source: shown.source, variant: shown.variant, edits: readEdits() });
    const cost = added.item.cost.answered ? 'answered before: $0' : `$${added.item.cost.batchUsd.toFixed(3)} in a batch`;
    note.textContent = `Added as #${added.item.id} (${added.item.changes.join(', ')}; ${cost}). ${added.queued} queued${added.submitted ? ': the queue reached its size and was submitted' : ''}.`;
  } catch (error) {
    note.textContent = `Not added: ${error.message}`;
  }
}

/** Fills the detail's versions and regenerate form for the image it shows (made or not: a failed image can be asked again). */
export function showVersionsAndForm(detail) {
  shown = detail;
  const choices = page.queue?.regenerate?.choices ?? { shots: [], aspectRatios: [], fields: [] };
  byId('regenerate-box').hidden = detail.failedIn === 'analyze' || detail.prompt === undefined;
  byId('regenerate-box').open = false;
  byId('regenerate-prompt').value = detail.prompt ?? '';
  byId('regenerate-seed').value = detail.seed ?? '';
  fillSelect(byId('regenerate-shot'), choices.shots, ['', detail.shot ? `${detail.shot} (this one)` : '(this one)']);
  fillSelect(byId('regenerate-aspect'), choices.aspectRatios, undefined);
  byId('regenerate-aspect').value = detail.imageConfig?.aspectRatio ?? '';
  fillSelect(byId('regenerate-field'), choices.fields, ['', '(none)']);
  byId('regenerate-value').value = '';
  byId('regenerate-note').textContent = '';
  byId('versions-box').hidden = true;
  byId('versions').replaceChildren();
  void refreshVersions().catch(() => undefined);
}

export function setUpVersions(options) {
  onChosen = options.onChosen;
  byId('regenerate-add').addEventListener('click', () => void addToBatch());
  byId('versions-character').addEventListener('change', () => void refreshVersions().catch(() => undefined));
  byId('regenerate-field').addEventListener('change', () => {
    const field = byId('regenerate-field').value;
    const value = field && shown?.analysis ? shown.analysis[field] : '';
    byId('regenerate-value').value = Array.isArray(value) ? value.join('; ') : (value ?? '');
  });
}
