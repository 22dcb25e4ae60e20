// The chargen UI page: renders what the server reads from the workspace. Text from the workspace is only ever set
// with textContent (never parsed as HTML): prompts, paths and reasons are data, not markup.

const pageSize = 60;
const byId = (id) => document.getElementById(id);

const page = {
  queue: undefined,
  /** Job states last seen, by displayName, to notice a job reaching a final state. */
  jobStates: new Map(),
  lastRunFinishedAt: undefined,
  gallery: { status: '', items: [], total: 0, loading: false, generation: 0, counts: '' },
  baseTitle: 'chargen',
  /** What each part of the page was last drawn from. */
  rendered: new Map(),
};

function createElement(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = String(options.text);
  if (options.title) node.title = options.title;
  for (const [name, value] of Object.entries(options.attributes ?? {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function formatState(state) {
  return String(state).replace(/^JOB_STATE_/, '');
}

function chooseStateClass(state) {
  const short = formatState(state);
  if (/SUCCEEDED|^done$/.test(short)) return 'state-ok';
  if (/FAILED|CANCELLED|EXPIRED|done-with-failures|failed/.test(short)) return 'state-bad';
  if (/RUNNING|running|SUBMITTED/.test(short)) return 'state-run';
  return 'state-wait';
}

function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function formatDuration(milliseconds) {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) return '';
  const seconds = Math.floor(milliseconds / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${seconds % 60} s`;
  return `${seconds} s`;
}

function computeElapsed(job) {
  const end = job.endedAt ? Date.parse(job.endedAt) : Date.now();
  return end - Date.parse(job.createdAt);
}

async function callJson(path, init) {
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({ error: { message: `${response.status} ${response.statusText}` } }));
  if (!response.ok) throw new Error(body?.error?.message ?? `${response.status} ${response.statusText}`);
  return body;
}

function postJson(path, value) {
  return callJson(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
}

// ---- problems ----------------------------------------------------------------------------------------------------

function showProblem(message) {
  byId('problem').hidden = message === undefined;
  byId('problem-message').textContent = message ?? '';
}

// ---- queue -------------------------------------------------------------------------------------------------------

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
  if (run.holder && !run.holder.thisUi) text = `A run is in progress elsewhere: process ${run.holder.pid} (chargen ${run.holder.command}), since ${formatTime(run.holder.startedAt)}.`;
  else if (run.active) text = 'A run started from this page is in progress.';
  else if (run.last) text = `Last run from this page: exit ${run.last.exitCode}, ${run.last.message} (${formatTime(run.last.finishedAt)})`;
  else text = 'No run in progress.';
  status.textContent = text;
  status.className = `run-status ${run.active ? 'state-run' : ''}`;
  for (const id of ['run-all', 'run-from-button', 'retry-dead']) byId(id).disabled = run.active;
  byId('run-log').textContent = run.log.join('\n');
  if (run.active) byId('run-log-box').open = true;
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

function updateTitle(queue, finished) {
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
  renderIfChanged('run', queue.run, () => renderRun(queue));
  renderIfChanged('jobs', [queue.jobs, queue.cancel, queue.liveError], () => renderJobs(queue));
  renderIfChanged('dead', queue.deadLetters, () => renderDeadLetters(queue));
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
    else if (!byId('gallery').hidden || first) void reloadGallery();
  }
}

function tickElapsed() {
  for (const cell of document.querySelectorAll('td.elapsed')) {
    cell.textContent = formatDuration(computeElapsed({ createdAt: cell.dataset.createdAt, endedAt: cell.dataset.endedAt }));
  }
}

function connect() {
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

// ---- actions -----------------------------------------------------------------------------------------------------

function askConfirmation(title, body) {
  byId('confirm-title').textContent = title;
  byId('confirm-body').textContent = body;
  const dialog = byId('confirm');
  return new Promise((resolve) => {
    const finish = (answer) => {
      byId('confirm-yes').onclick = null;
      byId('confirm-no').onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    byId('confirm-yes').onclick = () => finish(true);
    byId('confirm-no').onclick = () => finish(false);
    dialog.onclose = () => finish(false);
    dialog.showModal();
  });
}

async function startRun(from, title) {
  try {
    const plan = await postJson('/api/plan', from ? { from } : {});
    if (!(await askConfirmation(title, plan.lines.join('\n')))) return;
    await postJson('/api/runs', from ? { from } : {});
  } catch (error) {
    await askConfirmation('The run did not start', error.message);
  }
}

async function confirmCancel(job) {
  const yes = await askConfirmation(`Cancel ${job.name}?`, `${job.displayName}: ${job.requests} requests, ${formatState(job.state)}.\nA cancelled job's unfinished requests are not charged; chargen asks for them again in a new job on the next run.`);
  if (!yes) return;
  try {
    await postJson('/api/jobs/cancel', { name: job.name });
  } catch (error) {
    await askConfirmation('Cancel failed', error.message);
  }
}

// ---- gallery -----------------------------------------------------------------------------------------------------

/** Where a source cannot be shown: its format by name (HEIC), or, for bytes that turned out to be no image, just that. */
function createPlaceholder(source, known) {
  const format = /\.([a-z0-9]+)$/i.exec(source)?.[1]?.toUpperCase() ?? 'FILE';
  return createElement('div', { className: 'no-preview', text: known ? `${format}: no preview in a browser` : 'no preview' });
}

/**
 * The tile's picture: the image made, else the source when a browser can show it (the server says, from its bytes),
 * else a placeholder; a source that fails to load (an input that is no image) turns into one too.
 */
function createTilePicture(item) {
  if (!item.imageUrl && !item.sourcePreview) return createPlaceholder(item.source, true);
  const image = createElement('img', { attributes: { alt: item.source, loading: 'lazy', decoding: 'async', src: item.imageUrl ?? item.sourceUrl } });
  image.addEventListener('error', () => image.replaceWith(createPlaceholder(item.source, false)), { once: true });
  return image;
}

function createGalleryCard(item) {
  const card = createElement('button', { className: `card ${item.status}`, attributes: { type: 'button', 'data-id': item.id, 'data-status': item.status }, title: item.reason ?? item.source }, [
    createTilePicture(item),
    createElement('div', { className: 'caption' }, [
      createElement('span', { text: item.variant > 1 ? `${item.source} #${item.variant}` : item.source }),
      createElement('span', { className: `badge ${chooseStateClass(item.status)}`, text: item.status }),
    ]),
    ...(item.status === 'failed' && item.reason ? [createElement('div', { className: 'reason', text: item.failedIn === 'analyze' ? `analysis: ${item.reason}` : item.reason })] : []),
  ]);
  card.addEventListener('click', () => void openDetail(item.id));
  return card;
}

async function loadMore() {
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

async function reloadGallery() {
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
  byId('detail-title').textContent = detail.variant > 1 ? `${detail.source} (variant ${detail.variant})` : detail.source;
  const image = byId('detail-image');
  image.hidden = !detail.imageUrl;
  if (detail.imageUrl) image.src = detail.imageUrl;
  else image.removeAttribute('src');
  byId('detail-no-image').hidden = Boolean(detail.imageUrl);
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
    ['reason', detail.reason],
    ['what to do', detail.fix],
    ['warnings', detail.warnings.length > 0 ? detail.warnings.join('; ') : undefined],
  ].filter(([, value]) => value !== undefined && value !== '');
  byId('detail-facts').replaceChildren(...facts.flatMap(([name, value]) => [createElement('dt', { text: name }), createElement('dd', { text: value })]));
  byId('detail-prompt').textContent = detail.prompt ?? '(no prompt compiled)';
  byId('detail-analysis').textContent = detail.analysis ? JSON.stringify(detail.analysis, null, 2) : '(no analysis record)';
  byId('detail').showModal();
}

// ---- navigation --------------------------------------------------------------------------------------------------

function showView() {
  const gallery = location.hash === '#gallery';
  byId('queue').hidden = gallery;
  byId('gallery').hidden = !gallery;
  byId('nav-queue').classList.toggle('active', !gallery);
  byId('nav-gallery').classList.toggle('active', gallery);
  if (gallery && page.gallery.items.length === 0) void reloadGallery();
}

function setUp() {
  window.addEventListener('hashchange', showView);
  showView();
  for (const button of document.querySelectorAll('.filter')) {
    button.addEventListener('click', () => {
      for (const other of document.querySelectorAll('.filter')) other.classList.toggle('active', other === button);
      page.gallery.status = button.dataset.status;
      void reloadGallery();
    });
  }
  new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting) && !byId('gallery').hidden) void loadMore();
  }, { rootMargin: '600px' }).observe(byId('grid-end'));

  byId('gallery-changed').addEventListener('click', () => {
    window.scrollTo(0, 0);
    void reloadGallery();
  });
  byId('run-all').addEventListener('click', () => void startRun(undefined, 'Bring everything up to date?'));
  byId('run-from-button').addEventListener('click', () => {
    const from = byId('run-from').value;
    void startRun(from, `Rerun from ${from}?`);
  });
  byId('retry-dead').addEventListener('click', () => void startRun(undefined, 'Retry the retryable failures?'));

  const notifyButton = byId('notify');
  if ('Notification' in window && Notification.permission === 'default') {
    notifyButton.hidden = false;
    notifyButton.addEventListener('click', async () => {
      await Notification.requestPermission();
      notifyButton.hidden = Notification.permission !== 'default';
    });
  }
  // The title shows a finished job until the page is looked at again.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && page.baseTitle.startsWith('✓') && page.queue) {
      page.baseTitle = 'chargen';
      updateTitle(page.queue, undefined);
    }
  });
  setInterval(tickElapsed, 1000);
  connect();
}

setUp();
