import { readCheckpointStore, writeCheckpointStore } from '../../lib/store/checkpoint-store.ts';

/**
 * The names given to outputs in one output folder (entry id `<source path>#<variant>` → base name), kept from run to
 * run so an output never moves; each folder has its own, so going to another folder and back finds the names given
 * there. Kept in the workspace's checkpoint database (table output_names).
 */
export async function readOutputNames(options: { workspaceDirectory: string; outputDirectory: string }): Promise<Map<string, string>> {
  return readCheckpointStore(options.workspaceDirectory, (store) => store.readNames(options.outputDirectory)) ?? new Map();
}

export async function writeOutputNames(options: { workspaceDirectory: string; outputDirectory: string; names: ReadonlyMap<string, string> }): Promise<void> {
  writeCheckpointStore(options.workspaceDirectory, (store) => store.replaceNames(options.outputDirectory, options.names));
}
