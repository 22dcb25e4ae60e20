// The regenerate queue panel: each image the artist asked again, what it costs, its status; "Submit batch", "Run
// now" (full price, said before it is sent), the size at which the queue goes by itself, and a notice when a batch ends.
import { askConfirmation } from './actions.js';
import { byId, createElement, postJson } from './page.js';
import { refreshVersions } from './versions-view.js';

/** Batch states last seen, by id: a batch going from `sending` to `done` is announced once. */
const batchStates = new Map();

export function formatUsd(amount) {
  if (!(amount > 0)) return '$0';
  if (amount < 0.001) return 'under $0.001';
  return `$${amount.toFixed(3)}`;
}

function describeCost(item) {
  if (item.cost.answered) return 'answered before: $0';
  const unpriced = item.cost.unpriced ? ` (no price for ${item.cost.unpriced})` : '';
  return `${formatUsd(item.cost.batchUsd)} in a batch, ${formatUsd(item.cost.syncUsd)} now${unpriced}`;
}

function describeImage(item) {
  const prompt = item.prompt;
  return prompt.shot ? `${prompt.sourceImage.path} · ${prompt.shot}` : prompt.variant > 1 ? `${prompt.sourceImage.path} #${prompt.variant}` : prompt.sourceImage.path;
}

async function runNow(item) {
  const yes = await askConfirmation(
    `Run ${describeImage(item)} now, at full price?`,
    `This sends one request at once through generateContent, at the interactive price: ${formatUsd(item.cost.syncUsd)} (${formatUsd(item.cost.batchUsd)} in a batch).${item.cost.answered ? '\nIt was answered before: it is taken from the workspace at no cost.' : ''}`,
  );
  if (!yes) return;
  try {
    await postJson('/api/regenerate/run-now', { id: item.id });
  } catch (error) {
    await askConfirmation('Run now did not start', error.message);
  }
}

async function remove(item) {
  try {
    await postJson('/api/regenerate/remove', { id: item.id });
  } catch (error) {
    await askConfirmation('Could not remove it', error.message);
  }
}

function createItemRow(item) {
  const actions = createElement('td');
  if (item.status === 'queued') {
    const now = createElement('button', { text: 'Run now', attributes: { type: 'button', 'data-run-now': String(item.id) } });
    now.addEventListener('click', () => void runNow(item));
    const drop = createElement('button', { className: 'danger', text: 'Remove', attributes: { type: 'button' } });
    drop.addEventListener('click', () => void remove(item));
    actions.append(now, ' ', drop);
  }
  const status = createElement('td', {}, [createElement('span', { className: `badge ${item.status === 'done' ? 'state-ok' : item.status === 'failed' ? 'state-bad' : item.status === 'sent' ? 'state-run' : 'state-wait'}`, text: item.status })]);
  if (item.reason) status.append(createElement('div', { className: 'muted', text: item.reason }));
  return createElement('tr', { attributes: { 'data-item': String(item.id), 'data-status': item.status } }, [
    createElement('td', { text: String(item.id) }),
    createElement('td', { className: 'name', text: describeImage(item) }),
    createElement('td', { text: item.changes.join(', ') }),
    createElement('td', { text: item.status === 'queued' ? describeCost(item) : `sent (${item.batch ? `batch ${item.batch}` : 'no batch'})` }),
    status,
    actions,
  ]);
}

export function renderRegenerate(view) {
  byId('regen-count').textContent = view.queued.count > 0 ? `(${view.queued.count} queued, ${formatUsd(view.queued.batchUsd)})` : '';
  byId('no-regen').hidden = view.items.length > 0;
  byId('regen-items').hidden = view.items.length === 0;
  byId('regen-items').querySelector('tbody').replaceChildren(...view.items.map(createItemRow));
  const submit = byId('regen-submit');
  submit.disabled = view.sending || view.queued.count === 0;
  submit.textContent = view.queued.count > 0 ? `Submit batch (${view.queued.count}, ${formatUsd(view.queued.batchUsd)})` : 'Submit batch';
  const auto = byId('regen-auto');
  if (document.activeElement !== auto) auto.value = view.autoSubmitAt ?? '';
  const sending = view.batches.filter((batch) => batch.status === 'sending');
  byId('regen-status').textContent = sending.length > 0 ? `Sending ${sending.map((batch) => `${batch.mode === 'sync' ? 'run now' : 'batch'} ${batch.id}`).join(', ')}…` : (view.last ?? '');
}

/** Batches that ended since the last update, as lines for the title and a notification (none on the first update). */
export function announceRegenerate(view) {
  const finished = [];
  for (const batch of view.batches) {
    const before = batchStates.get(batch.id);
    if (before === 'sending' && batch.status === 'done') finished.push(`regenerate: ${batch.message ?? `batch ${batch.id} done`}`);
    batchStates.set(batch.id, batch.status);
  }
  if (finished.length > 0) void refreshVersions();
  return finished;
}

export function setUpRegenerate() {
  byId('regen-submit').addEventListener('click', async () => {
    const count = byId('regen-submit').textContent;
    if (!(await askConfirmation('Submit the queue as one batch job?', `${count}.\nBatch jobs cost half the interactive price and usually end within hours; the page tells you when it is done, even after a reload.`))) return;
    try {
      await postJson('/api/regenerate/submit', {});
    } catch (error) {
      await askConfirmation('The batch was not submitted', error.message);
    }
  });
  byId('regen-auto').addEventListener('change', async () => {
    const value = byId('regen-auto').value.trim();
    try {
      await postJson('/api/regenerate/auto-submit', { size: value === '' ? null : Number(value) });
    } catch (error) {
      await askConfirmation('Not saved', error.message);
    }
  });
}
