import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from './atomic-file.ts';
import { workspaceFilePath } from './workspace-layout.ts';

const workspaceFileSchema = z
  .object({
    kind: z.literal('chargen-workspace'),
    version: z.literal(1),
    /** Names this workspace's batch jobs (`chargen-<id>-…`), so they are found again after a crash. */
    id: z.string().regex(/^[a-z0-9]{8,16}$/),
    createdAt: z.iso.datetime(),
  })
  .strict();

export interface Workspace {
  directory: string;
  id: string;
}

/** Opens the workspace folder, giving it an id on first use. */
export async function openWorkspace(options: { directory: string; now: () => number; generateId?: () => string; readOnly?: boolean }): Promise<Workspace> {
  const path = workspaceFilePath(options.directory);
  const existing = await readJsonFile(path, workspaceFileSchema, 'Restore it, or delete the whole workspace folder to start afresh (this forgets which answers were paid for).');
  if (existing) return { directory: options.directory, id: existing.id };
  // A dry run looks without leaving anything behind; its plan does not depend on the id.
  if (options.readOnly) return { directory: options.directory, id: 'notcreated' };
  const id = options.generateId?.() ?? randomBytes(5).toString('hex');
  await writeJsonAtomic(path, { kind: 'chargen-workspace', version: 1, id, createdAt: new Date(options.now()).toISOString() });
  return { directory: options.directory, id };
}
