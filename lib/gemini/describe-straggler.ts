import type { JobRecord } from './job-record.ts';

type StragglerFields = Pick<JobRecord, 'status' | 'finalState' | 'pendingDeadlineAt' | 'cancelRequestedAt' | 'replacedBy' | 'replaces'>;

function formatState(state: string | undefined): string {
  return (state ?? '').replace(/^(JOB|BATCH)_STATE_/, '');
}

/**
 * Pure: one line on a job's deadline and what became of it as a straggler, for `chargen status` and the UI; undefined
 * when there is nothing to say (no deadline, or a job that finished before it).
 */
export function describeStraggler(record: StragglerFields): string | undefined {
  const deadline = record.pendingDeadlineAt ?? '(no deadline recorded)';
  if (record.replacedBy !== undefined) {
    const ended = record.finalState !== undefined && record.finalState !== 'JOB_STATE_CANCELLED' ? ` (it ended ${formatState(record.finalState)} first)` : '';
    return `straggler: still PENDING at its deadline ${deadline}, cancelled${ended}; its unanswered lines went into ${record.replacedBy}`;
  }
  if (record.cancelRequestedAt !== undefined) {
    if (record.status === 'finished') return `straggler: still PENDING at its deadline ${deadline}, cancel asked; it ended ${formatState(record.finalState)} with every line answered`;
    return `straggler: still PENDING at its deadline ${deadline}, cancel asked at ${record.cancelRequestedAt}; its lines go into a new job once the cancel is confirmed`;
  }
  const replaces = record.replaces !== undefined ? `replaces the straggler ${record.replaces}` : undefined;
  const open = record.status !== 'finished' && record.pendingDeadlineAt !== undefined ? `replaced if still PENDING at ${record.pendingDeadlineAt}` : undefined;
  const parts = [replaces, open].filter((part) => part !== undefined);
  return parts.length > 0 ? parts.join('; ') : undefined;
}
