import { stat } from 'node:fs/promises';
import type { AnalyzeSettings } from '../../schemas/analyze-settings.ts';
import { scanImages, type ScannedEntry } from './scan-images.ts';

/** The input folder as analyze sees it: read once per run, then its fingerprint, its plan and its work share it. */
export interface InputListing {
  entries: ScannedEntry[];
  /** Each scanned entry's path, size and modification time (-1 when gone), for the fingerprint. */
  files: [string, number, number][];
  /** Images chargen made that the scan found (and left out), in the order found. */
  chargenOutputs: string[];
}

/** The folders chargen writes to: never read as input, even when they lie inside the input folder. */
export function listWrittenFolders(context: { outputDirectory: string; workspace: { directory: string } }): { role: string; path: string }[] {
  return [
    { role: 'output folder', path: context.outputDirectory },
    { role: 'workspace', path: context.workspace.directory },
  ];
}

/**
 * Scans the input folder (leaving out the folders chargen writes to) and notes each entry's size and modification
 * time: cheap, and enough to tell a changed input (hashing a hundred thousand images on every run would take minutes).
 */
export async function listInputFolder(options: { inputDirectory: string; outputDirectory: string; workspaceDirectory: string; settings: AnalyzeSettings }): Promise<InputListing> {
  const chargenOutputs: string[] = [];
  const entries = await scanImages({
    inputDirectory: options.inputDirectory,
    patterns: options.settings.patterns,
    ignore: options.settings.ignore,
    exclude: listWrittenFolders({ outputDirectory: options.outputDirectory, workspace: { directory: options.workspaceDirectory } }),
    onChargenOutput: (relativePath) => chargenOutputs.push(relativePath),
  });
  const files: [string, number, number][] = [];
  for (const entry of entries) {
    const found = await stat(entry.path).catch(() => undefined);
    files.push([entry.relativePath, found?.size ?? -1, found?.mtimeMs ?? -1]);
  }
  return { entries, files, chargenOutputs };
}
