import { resolve } from 'node:path';
import type { ChargenConfig } from '../schemas/chargen-config.ts';
import { toApiUnreachableError } from '../lib/gemini/detect-unreachable-api.ts';
import type { Logger } from '../lib/logger.ts';
import { createPipelineContext, type ConnectedBackend } from './pipeline-context.ts';
import { openWorkspace } from '../lib/store/open-workspace.ts';
import { requireWorkspace } from './workspace-status.ts';

/**
 * Runs `work` with an existing workspace's backend connected (for the calls the commands make outside a run: list,
 * cancel, delete), and disconnects after. Throws ChargenErrors for the caller to report.
 */
export async function withWorkspaceBackend<T>(
  options: { cwd: string; env: NodeJS.ProcessEnv; config: ChargenConfig; logger: Logger },
  work: (context: { backend: ConnectedBackend; workspaceId: string }) => Promise<T>,
): Promise<T> {
  const directory = resolve(options.cwd, options.config.workdir);
  await requireWorkspace(directory);
  const workspace = await openWorkspace({ directory, now: Date.now });
  const context = await createPipelineContext({ cwd: options.cwd, env: options.env, config: options.config, logger: options.logger, workspace, signal: new AbortController().signal, detach: false });
  try {
    const backend = await context.connect();
    return await work({ backend, workspaceId: workspace.id }).catch((error: unknown) => {
      throw toApiUnreachableError(error, { connection: backend.backend.connection });
    });
  } finally {
    await context.close();
  }
}
