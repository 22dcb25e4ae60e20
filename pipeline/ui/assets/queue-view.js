// The queue view: stages, this page's run, the batch jobs, the dead letters, kept live by the server's event stream.
import { confirmCancel } from './actions.js';
import { reloadGallery } from './gallery-view.js';
import { byId, chooseStateClass, computeElapsed, createElement, formatDuration, formatState, formatTime, page, showProblem } from './page.js';
import { announceRegenerate, renderRegenerate } from './regenerate-view.js';

function renderStages(stages) {
  const container = byId('stages');
  container.replaceChildren(
    ...stages.map((stage) => {
      const lines = [createElement('p', { text: `${stage.items} ${stage.name === 'compile' ? 'prompts' : stage.name === 'analyze' ? 'records' : 'images'}` })];
      if (stage.failed > 0) lines.push(createElement('p', { className: 'warning', text: `${stage.failed} failed (${stage.retryable} retryable)` }));
      return createElement('div', { className: 'stage', attributes: { 'data-stage': stage.name } }, [
        createElement('h3', {}, [createElement('span', { text: stage.name }), createElement('span', { className: `badge ${chooseStateClass(stage.status)}`, text: stage.status })]),
        ...lines,
      ]);
    }),
  );
}

function renderRun(queue) {
  const run = queue.run;
  const status = byId('run-status');
  let text;
  if (run.holder && run.holder.pid === queue.regenerate?.pid && queue.regenerate?.sending) text = `This page is sending a regenerate batch (chargen ${run.holder.command}, since ${formatTime(run.holder.startedAt)}): runs wait until it is done.`;
  else if (run.holder && !run.holder.thisUi) text = `A run is in progress elsewhere: process ${run.holder.pid} (chargen ${run.holder.command}), since ${formatTime(run.holder.startedAt)}.`;
  else if (run.active) text = 'A run started from this page is in progress.';
  else if (run.last) text = `Last run from this page: exit ${run.last.exitCode}, ${run.last.message} (${formatTime(run.last.finishedAt)})`;
  else text = 'No run in progress.';
  status.textContent = text;
  status.className = `run-status ${run.active ? 'state-run' : ''}`;
  for (const id of ['run-all', 'run-from-button', 'retry-dead']) byId(id).disabled = run.active;
  byId('run-log').textContent = run.log.join('\n');
  if (run.active && run.log.length > 0) byId('run-log-box').open = true;
}

/** Runs `render` only when its part of the queue changed: rebuilt rows would swallow a click or lose focus. */
function renderIfChanged(name, value, render) {
  const key = JSON.stringify(value);
  if (page.rendered.get(name) === key) return;
  page.rendered.set(name, key);
  render();
}

function renderJobs(queue) {
  const body = byId('jobs').querySelector('tbody');
  byId('no-jobs').hidden = queue.jobs.length > 0;
  byId('jobs').hidden = queue.jobs.length === 0;
  body.replaceChildren(
    ...queue.jobs.map((job) => {
      const counts = [`${job.requests}`];
      if (job.succeeded !== undefined) counts.push(`${job.succeeded} ok`);
      if (job.failed) counts.push(`${job.failed} failed`);
      if (job.pending) counts.push(`${job.pending} pending`);
      const stateCell = createElement('td', {}, [createElement('span', { className: `badge ${chooseStateClass(job.state)}`, text: formatState(job.state), attributes: { 'data-state': job.state } })]);
      if (job.error) stateCell.append(createElement('div', { className: 'muted', text: job.error }));
      if (job.straggler) stateCell.append(createElement('div', { className: 'muted straggler', text: job.straggler }));
      const actions = createElement('td');
      if (!job.settled && job.name) {
        const cancel = createElement('button', { className: 'danger', text: 'Cancel', attributes: { type: 'button', 'data-cancel': job.name } });
        cancel.disabled = !queue.cancel.allowed;
        if (!queue.cancel.allowed) cancel.title = queue.cancel.reason ?? '';
        cancel.addEventListener('click', () => confirmCancel(job));
        actions.append(cancel);
      }
      const elapsed = createElement('td', { className: 'elapsed', text: formatDuration(computeElapsed(job)) });
      elapsed.dataset.createdAt = job.createdAt;
      if (job.endedAt) elapsed.dataset.endedAt = job.endedAt;
      return createElement('tr', { attributes: { 'data-job': job.displayName } }, [
        createElement('td', { text: job.stage }),
        createElement('td', { className: 'name' }, [createElement('div', { text: job.name ?? '(not created yet)' }), createElement('div', { className: 'muted', text: job.displayName })]),
        stateCell,
        createElement('td', { text: counts.join(', ') }),
        createElement('td', { text: formatTime(job.createdAt) }),
        createElement('td', { text: formatTime(job.updatedAt) }),
        elapsed,
        actions,
      ]);
    }),
  );
  byId('live-error').hidden = !queue.liveError;
  byId('live-error').textContent = queue.liveError ? `Could not ask the API for the latest job states (showing the last known): ${queue.liveError}` : '';
}

function renderDeadLetters(queue) {
  const { total, retryable, shown } = queue.deadLetters;
  byId('dead-count').textContent = total > 0 ? `(${total})` : '';
  byId('no-dead').hidden = total > 0;
  byId('dead-letters').hidden = total === 0;
  const retry = byId('retry-dead');
  retry.hidden = retryable === 0;
  retry.textContent = `Retry these (${retryable} retryable)`;
  byId('dead-note').textContent = [
    total - retryable > 0 ? `${total - retryable} cannot be mended by trying again: see "what to do".` : '',
    shown.length < total ? `Showing ${shown.length} of ${total}.` : '',
  ].filter(Boolean).join(' ');
  byId('dead-letters').querySelector('tbody').replaceChildren(
    ...shown.map((letter) =>
      createElement('tr', {}, [
        createElement('td', { text: letter.stage }),
        createElement('td', { className: 'name', text: letter.variant && letter.variant > 1 ? `${letter.source} (variant ${letter.variant})` : letter.source }),
        createElement('td', { text: letter.reason }),
        createElement('td', { text: letter.fix }),
        createElement('td', { text: letter.retryable ? 'yes' : 'no' }),
      ]),
    ),
  );
}

export function updateTitle(queue, finished) {
  const running = queue.jobs.filter((job) => !job.settled).length;
  if (finished) page.baseTitle = `✓ ${finished} — chargen`;
  else if (running > 0) page.baseTitle = `${running} job${running === 1 ? '' : 's'} running — chargen`;
  else if (!page.baseTitle.startsWith('✓')) page.baseTitle = 'chargen';
  document.title = page.baseTitle;
}

function notify(message) {
  if ('Notification' in window && Notification.permission === 'granted') {
    try {
      new Notification('chargen', { body: message, tag: 'chargen' });
    } catch {
      // Some browsers only notify from a service worker; the title still says it.
    }
  }
}

/** Notices jobs (and this page's run) reaching a final state since the last update. */
function announceChanges(queue) {
  const finished = [];
  for (const job of queue.jobs) {
    const before = page.jobStates.get(job.displayName);
    if (before && !before.settled && job.settled) finished.push(`${job.name ?? job.displayName}: ${formatState(job.state)}`);
    page.jobStates.set(job.displayName, { settled: job.settled, state: job.state });
  }
  const last = queue.run.last;
  if (last && page.lastRunFinishedAt !== undefined && last.finishedAt !== page.lastRunFinishedAt) finished.push(`run finished: ${last.message}`);
  if (last) page.lastRunFinishedAt = last.finishedAt;
  else page.lastRunFinishedAt ??= '';
  // A regenerate batch is a job too: its end is told, and it counts as one finished job.
  finished.push(...announceRegenerate(queue.regenerate));
  for (const message of finished) notify(message);
  return finished.length > 0 ? (finished.length === 1 ? finished[0] : `${finished.length} jobs finished`) : undefined;
}

function renderQueue(queue) {
  const first = page.queue === undefined;
  page.queue = queue;
  showProblem(undefined);
  byId('workspace').textContent = queue.workspace.directory;
  byId('backend').textContent = `backend: ${queue.workspace.backend}`;
  // On the first queue nothing was seen before it, so nothing is announced: it only records the states.
  const finished = announceChanges(queue);
  renderIfChanged('stages', queue.stages, () => renderStages(queue.stages));
  renderIfChanged('run', [queue.run, queue.regenerate?.sending], () => renderRun(queue));
  renderIfChanged('jobs', [queue.jobs, queue.cancel, queue.liveError], () => renderJobs(queue));
  renderIfChanged('dead', queue.deadLetters, () => renderDeadLetters(queue));
  renderIfChanged('regenerate', queue.regenerate, () => renderRegenerate(queue.regenerate));
  updateTitle(queue, finished);
  const { gallery } = queue;
  byId('gallery-count').textContent = `(${gallery.total})`;
  for (const button of document.querySelectorAll('.filter')) {
    const status = button.dataset.status;
    button.querySelector('span').textContent = `${status ? gallery[status] : gallery.total}`;
  }
  const counts = `${gallery.total}/${gallery.done}/${gallery.failed}/${gallery.pending}`;
  if (counts !== page.gallery.counts) {
    page.gallery.counts = counts;
    // Reloading under someone scrolled down the gallery would throw them back to the top: offer it instead.
    if (!byId('gallery').hidden && window.scrollY > 300) byId('gallery-changed').hidden = false;
    // On the first queue, a gallery the page has shown already (opened at #gallery) was read just now: not again, which
    // would empty it under the viewer for a moment.
    else if ((!byId('gallery').hidden || first) && !(first && page.gallery.items.length > 0)) void reloadGallery();
  }
}

export function tickElapsed() {
  for (const cell of document.querySelectorAll('td.elapsed')) {
    cell.textContent = formatDuration(computeElapsed({ createdAt: cell.dataset.createdAt, endedAt: cell.dataset.endedAt }));
  }
}

export function connect() {
  const indicator = byId('connection');
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => {
    indicator.textContent = 'live';
    indicator.className = 'connection live';
  });
  events.addEventListener('queue', (event) => renderQueue(JSON.parse(event.data)));
  events.addEventListener('problem', (event) => showProblem(JSON.parse(event.data).error.message));
  events.addEventListener('error', () => {
    indicator.textContent = 'reconnecting…';
    indicator.className = 'connection down';
  });
}
