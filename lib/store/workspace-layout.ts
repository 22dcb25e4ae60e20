import { join } from 'node:path';

/**
 * The one owner of the workspace's layout: every path inside a workspace is made here, from the workspace's root or
 * from one backend's state folder (`<workspace>/backends/<identity>`). Pure: it names paths, it never touches them.
 *
 * ```
 * <workspace>/workspace.json, lock, checkpoints.sqlite
 *   (analyze/analysis.json   compile/prompts.json   synthesize/outputs.json, names.json, names/<folder hash>.json:
 *    before checkpoints.sqlite, moved into it once)
 *   backends/<identity>/backend.json, state.sqlite, request-mime-type.json
 *     jobs/<stage>/<displayName>.json   requests/<stage>/<displayName>.jsonl   downloads/<stage>/<displayName>.jsonl
 *     blobs/synthesize/<sha256>   (results/<stage>.jsonl, uploads.jsonl: before state.sqlite, moved into it once)
 * ```
 */

// The workspace's root.

export function workspaceFilePath(workspaceDirectory: string): string {
  return join(workspaceDirectory, 'workspace.json');
}

export function workspaceLockPath(workspaceDirectory: string): string {
  return join(workspaceDirectory, 'lock');
}

/**
 * The artist's versions of images (chargen ui), each with its sidecar, named after its output and numbered
 * (`knight-v2.png`, `knight-v2.json`): kept for as long as the workspace, the chosen one copied to the output folder.
 */
export function versionsDirectory(workspaceDirectory: string): string {
  return join(workspaceDirectory, 'versions');
}

/** The stages' checkpoints and the output names, in one database (lib/store/checkpoint-store.ts). */
export function checkpointDatabasePath(workspaceDirectory: string): string {
  return join(workspaceDirectory, 'checkpoints.sqlite');
}

/** The analysis checkpoint before checkpoints.sqlite: moved into it once, then removed. */
export function analysisCheckpointPath(workspaceDirectory: string): string {
  return join(workspaceDirectory, 'analyze', 'analysis.json');
}

export function promptsCheckpointPath(workspaceDirectory: string): string {
  return join(workspaceDirectory, 'compile', 'prompts.json');
}

export function synthesizeCheckpointPath(workspaceDirectory: string): string {
  return join(workspaceDirectory, 'synthesize', 'outputs.json');
}

/** The output names given in one output folder, named by a hash of the folder's path. */
export function outputNamesPath(workspaceDirectory: string, folderHash: string): string {
  return join(workspaceDirectory, 'synthesize', 'names', `${folderHash}.json`);
}

/** Before names were kept per folder: one file, for the last folder used. */
export function singleOutputNamesPath(workspaceDirectory: string): string {
  return join(workspaceDirectory, 'synthesize', 'names.json');
}

export function backendsDirectory(workspaceDirectory: string): string {
  return join(workspaceDirectory, 'backends');
}

/** `<workspace>/backends/<identity>`: result caches, job records, uploads and blobs of one backend. */
export function backendStateDirectory(workspaceDirectory: string, identity: string): string {
  return join(backendsDirectory(workspaceDirectory), identity);
}

// One backend's state folder.

export function backendFilePath(stateDirectory: string): string {
  return join(stateDirectory, 'backend.json');
}

/** The upload registry before the database: moved into it on first open, then removed. */
export function uploadRegistryPath(stateDirectory: string): string {
  return join(stateDirectory, 'uploads.jsonl');
}

export function requestMimeTypePath(stateDirectory: string): string {
  return join(stateDirectory, 'request-mime-type.json');
}

export function jobsDirectory(stateDirectory: string): string {
  return join(stateDirectory, 'jobs');
}

export function jobRecordDirectory(stateDirectory: string, stage: string): string {
  return join(jobsDirectory(stateDirectory), stage);
}

/** A request file's path relative to the state folder, as a job record keeps it. */
export function requestFileRelativePath(stage: string, displayName: string): string {
  return join('requests', stage, `${displayName}.jsonl`);
}

export function downloadedResultPath(stateDirectory: string, stage: string, displayName: string): string {
  return join(stateDirectory, 'downloads', stage, `${displayName}.jsonl`);
}

/** One backend's database: its final outcomes by stage and key (lib/store/workspace-database.ts). */
export function stateDatabasePath(stateDirectory: string): string {
  return join(stateDirectory, 'state.sqlite');
}

/** Where outcomes were kept before the database, as append logs: imported into it on first open, then removed. */
export function legacyResultsDirectory(stateDirectory: string): string {
  return join(stateDirectory, 'results');
}

export function resultCachePath(stateDirectory: string, stage: string): string {
  return join(legacyResultsDirectory(stateDirectory), `${stage}.jsonl`);
}

/** Where a backend's received images and signatures are kept, named by the sha256 of their bytes. */
export function storedAnswersDirectory(stateDirectory: string): string {
  return join(stateDirectory, 'blobs', 'synthesize');
}

/** What an ephemeral backend (the built-in emulator) leaves that means nothing to the next process. */
export function ephemeralBackendPaths(stateDirectory: string): string[] {
  return ['jobs', 'requests', 'downloads'].map((name) => join(stateDirectory, name)).concat(uploadRegistryPath(stateDirectory));
}

/** The UI's WebP thumbnails of output and source images, made once each (lib/media/thumbnail-cache.ts). */
export function thumbnailsDirectory(workspaceDirectory: string): string {
  return join(workspaceDirectory, 'thumbnails');
}
