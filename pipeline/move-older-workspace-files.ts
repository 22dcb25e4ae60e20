import { importWorkspaceResultLogs } from '../lib/gemini/import-result-logs.ts';
import { formatCount } from '../lib/format-count.ts';
import type { Logger } from '../lib/logger.ts';
import { moveJsonCheckpoints } from '../stages/move-json-checkpoints.ts';

/**
 * The files of an older chargen moved into the workspace's databases, once, and said so: result logs into the
 * backends' state.sqlite, JSON checkpoints and output names into checkpoints.sqlite. Answers paid for are kept.
 */
export async function moveOlderWorkspaceFiles(options: { workspaceDirectory: string; logger: Logger }): Promise<void> {
  const { workspaceDirectory, logger } = options;
  const logs = await importWorkspaceResultLogs({ workspaceDirectory, now: Date.now, onSkippedLine: (file, line, reason) => logger.warn(`${file} line ${line}: ${reason}`) });
  if (logs.files > 0) logger.info(`workspace: ${formatCount(logs.outcomes, 'answer')} moved from ${formatCount(logs.files, 'result log')} into state.sqlite`);
  const checkpoints = await moveJsonCheckpoints({ workspaceDirectory, now: Date.now, onDamaged: (message) => logger.warn(message) });
  if (checkpoints > 0) logger.info(`workspace: ${formatCount(checkpoints, 'checkpoint file')} moved into checkpoints.sqlite`);
}
