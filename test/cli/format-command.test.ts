import { describe, expect, it } from 'vitest';
import { formatCommand, quoteShellArgument } from '../../pipeline/format-command.ts';
import { isNamedBy } from '../../lib/gemini/workspace-jobs.ts';
import { describeFailures } from '../../pipeline/run-pipeline.ts';

describe('hints a user can paste', () => {
  it('repeat the flags each command takes, quoted only where the shell needs it', () => {
    const flags = { input: 'my pics', out: 'art', workdir: '.chargen-2', config: "it's.json", only: 'synthesize' };
    expect(formatCommand('run', flags)).toBe(`chargen run --input 'my pics' --out art --workdir .chargen-2 --config 'it'\\''s.json' --only synthesize`);
    expect(formatCommand('status', flags)).toBe(`chargen status --workdir .chargen-2 --config 'it'\\''s.json'`);
    expect(formatCommand('run', {}, ['--from', 'compile'])).toBe('chargen run --from compile');
    expect(['a/b.c', 'x y', '$HOME', ''].map(quoteShellArgument)).toEqual(['a/b.c', "'x y'", "'$HOME'", "''"]);
  });

  it('say to run again only when trying again can mend something', () => {
    expect(describeFailures({ failed: 1, retryable: 0, rerun: 'chargen run' })).toBe('1 item failed (listed above)');
    expect(describeFailures({ failed: 1, retryable: 1, rerun: 'chargen run' })).toBe('1 item failed (listed above); trying again can mend it: run `chargen run`');
    expect(describeFailures({ failed: 3, retryable: 2, rerun: 'chargen run --out art' })).toBe('3 items failed (listed above); trying again can mend 2 of them: run `chargen run --out art`');
  });

  it('jobs cancel knows a job by its id, with or without batches/, and by its display name', () => {
    const job = { name: 'batches/abc123', displayName: 'chargen-ws1-analyze-00ff-1' };
    expect(['batches/abc123', 'abc123', ' abc123 ', 'chargen-ws1-analyze-00ff-1'].map((name) => isNamedBy(job, name))).toEqual([true, true, true, true]);
    expect(['batches/abc', 'abc', 'chargen-ws1-analyze-00ff-2', 'batches/'].map((name) => isNamedBy(job, name))).toEqual([false, false, false, false]);
  });
});
