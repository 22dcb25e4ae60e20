/** Where one stage stands, as the status line shows it. */
export interface StageProgressView {
  stage: string;
  done: number;
  total: number;
  /** Each batch job of the stage by name, with its last known state (`JOB_STATE_RUNNING`, …). */
  jobs: ReadonlyMap<string, string>;
  elapsedMilliseconds: number;
  /** Absent while there is nothing to estimate on (no answer yet) and once the stage has finished. */
  remainingMilliseconds?: number;
}

const widestBar = 24;
const narrowestBar = 8;
const separator = '  ';
const colours = { reset: '\u001b[0m', green: '\u001b[32m', yellow: '\u001b[33m', red: '\u001b[31m' } as const;

/** A piece of the line: its text as it takes room on the screen, and as it is written (with colour). */
interface Piece {
  plain: string;
  painted: string;
}

function colourOfState(state: string): string {
  if (/SUCCEEDED/.test(state)) return colours.green;
  if (/FAILED|CANCELLED|EXPIRED/.test(state)) return colours.red;
  return colours.yellow;
}

/** `42s`, `3m05s`, `2h07m`: short enough for a status line, exact enough for a wait of minutes to hours. */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function describeJobs(view: StageProgressView, paint: (code: string, text: string) => string): Piece | undefined {
  if (view.jobs.size === 0) return undefined;
  const counts = new Map<string, number>();
  for (const state of view.jobs.values()) counts.set(state, (counts.get(state) ?? 0) + 1);
  const named = [...counts].map(([state, count]) => ({ state, text: `${count} ${state.replace(/^(JOB|BATCH)_STATE_/, '').toLowerCase()}` }));
  return {
    plain: `jobs: ${named.map((entry) => entry.text).join(', ')}`,
    painted: `jobs: ${named.map((entry) => paint(colourOfState(entry.state), entry.text)).join(', ')}`,
  };
}

function drawBar(view: StageProgressView, width: number, paint: (code: string, text: string) => string): Piece {
  const filled = Math.min(width, Math.round((Math.min(view.done, view.total) / view.total) * width));
  return {
    plain: `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`,
    painted: `[${paint(colours.green, '#'.repeat(filled))}${'-'.repeat(width - filled)}]`,
  };
}

function join(pieces: readonly (Piece | undefined)[]): Piece {
  const present = pieces.filter((piece): piece is Piece => piece !== undefined);
  return { plain: present.map((piece) => piece.plain).join(separator), painted: present.map((piece) => piece.painted).join(separator) };
}

/**
 * Pure: the status line of one stage, e.g.
 * `synthesize  [##########--------------] 5/12  jobs: 1 running, 1 succeeded  3m05s, about 4m20s left`,
 * no wider than `columns - 1` (a line reaching the last column makes some terminals wrap). What does not fit goes, in
 * this order: the bar narrows, the jobs go, the bar goes, the estimate goes, the time goes; what is left is cut.
 */
export function formatProgressLine(options: { view: StageProgressView; colour: boolean; columns: number }): string {
  const { view, colour } = options;
  const room = Math.max(1, options.columns - 1);
  const paint = (code: string, text: string) => (colour ? `${code}${text}${colours.reset}` : text);
  const plain = (text: string): Piece => ({ plain: text, painted: text });
  const stage = plain(view.stage);
  const count = view.total > 0 ? plain(`${Math.min(view.done, view.total)}/${view.total}`) : undefined;
  const jobs = describeJobs(view, paint);
  const elapsed = formatDuration(view.elapsedMilliseconds);
  const time = plain(view.remainingMilliseconds === undefined ? elapsed : `${elapsed}, about ${formatDuration(view.remainingMilliseconds)} left`);
  const bar = plain('[] ');
  const candidates = [[stage, bar, jobs, time], [stage, bar, time], [stage, count, jobs, time], [stage, count, time], [stage, count, plain(elapsed)], [stage, count]];
  for (const candidate of candidates) {
    if (!candidate.includes(bar)) {
      const line = join(candidate);
      if (line.plain.length <= room) return line.painted;
      continue;
    }
    // The bar takes the room the rest leaves, up to its widest; too narrow a bar says nothing.
    if (!count) continue;
    const width = Math.min(widestBar, room - join(candidate).plain.length - count.plain.length);
    if (width < narrowestBar) continue;
    const drawn = drawBar(view, width, paint);
    const barAndCount = { plain: `${drawn.plain} ${count.plain}`, painted: `${drawn.painted} ${count.painted}` };
    return join(candidate.map((piece) => (piece === bar ? barAndCount : piece))).painted;
  }
  return `${join([stage, count]).plain.slice(0, room - 1)}…`;
}
