// What every part of the page shares: its state, finding and making elements, formatting, and calling the server.

export const byId = (id) => document.getElementById(id);

export const page = {
  queue: undefined,
  /** Job states last seen, by displayName, to notice a job reaching a final state. */
  jobStates: new Map(),
  lastRunFinishedAt: undefined,
  gallery: { status: '', items: [], total: 0, loading: false, generation: 0, counts: '' },
  baseTitle: 'chargen',
  /** What each part of the page was last drawn from. */
  rendered: new Map(),
};

export function createElement(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = String(options.text);
  if (options.title) node.title = options.title;
  for (const [name, value] of Object.entries(options.attributes ?? {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

export function formatState(state) {
  return String(state).replace(/^JOB_STATE_/, '');
}

export function chooseStateClass(state) {
  const short = formatState(state);
  if (/SUCCEEDED|^done$/.test(short)) return 'state-ok';
  if (/FAILED|CANCELLED|EXPIRED|done-with-failures|failed/.test(short)) return 'state-bad';
  if (/RUNNING|running|SUBMITTED/.test(short)) return 'state-run';
  return 'state-wait';
}

export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function formatDuration(milliseconds) {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) return '';
  const seconds = Math.floor(milliseconds / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${seconds % 60} s`;
  return `${seconds} s`;
}

export function computeElapsed(job) {
  const end = job.endedAt ? Date.parse(job.endedAt) : Date.now();
  return end - Date.parse(job.createdAt);
}

export async function callJson(path, init) {
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({ error: { message: `${response.status} ${response.statusText}` } }));
  if (!response.ok) throw new Error(body?.error?.message ?? `${response.status} ${response.statusText}`);
  return body;
}

export function postJson(path, value) {
  return callJson(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
}

export function showProblem(message) {
  byId('problem').hidden = message === undefined;
  byId('problem-message').textContent = message ?? '';
}
