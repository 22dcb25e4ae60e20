import fastGlob from 'fast-glob';
import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { findNestedFolders } from './find-nested-folders.ts';
import { isChargenOutput } from './is-chargen-output.ts';
import { listUnmatchedFiles } from './list-unmatched-files.ts';

export type ScannedEntry =
  | { kind: 'file'; path: string; relativePath: string; sizeBytes: number }
  | { kind: 'rejected'; path: string; relativePath: string; reason: string; fix: string }
  | { kind: 'unmatched'; path: string; relativePath: string };

/**
 * Finds candidate images under `inputDirectory` by pattern (case-insensitive). Folders named like images and
 * symlinks that lead out of the input folder are reported, not followed; nothing is read yet. The folders chargen
 * writes to (`exclude`: the output folder, the workspace) are left out when they lie inside the input folder, and so
 * is any image chargen made (its sidecar beside it), named to `onChargenOutput`.
 */
export async function scanImages(options: {
  inputDirectory: string;
  patterns: readonly string[];
  ignore: readonly string[];
  exclude?: readonly { role: string; path: string }[];
  onChargenOutput?: (relativePath: string) => void;
}): Promise<ScannedEntry[]> {
  const root = resolve(options.inputDirectory);
  const realRoot = await realpath(root);
  const nested = await findNestedFolders({ inputDirectory: root, folders: options.exclude ?? [] });
  const ignore = [...options.ignore, ...nested.flatMap((folder) => [fastGlob.escapePath(folder.relativePath), `${fastGlob.escapePath(folder.relativePath)}/**`])];
  const names = await fastGlob([...options.patterns], {
    cwd: root,
    ignore,
    caseSensitiveMatch: false,
    onlyFiles: false,
    followSymbolicLinks: false,
    // Names with a leading dot are images too; skipping them silently would lose them without a word.
    dot: true,
    unique: true,
  });
  const entries: ScannedEntry[] = [];
  // A chargen output's own files (sidecar, signature) and its folder's contact sheet are chargen's too, not input.
  const outputFolders = new Set<string>();
  const outputStems = new Set<string>();
  for (const relativePath of names.sort()) {
    const path = join(root, relativePath);
    const reject = (reason: string, fix: string) => entries.push({ kind: 'rejected', path, relativePath, reason, fix });
    try {
      const link = await lstat(path);
      if (link.isSymbolicLink()) {
        const resolved = await realpath(path).then((target) => ({ target }), (error: NodeJS.ErrnoException) => ({ target: undefined, code: error.code }));
        const target = resolved.target;
        if (!target) {
          const loop = 'code' in resolved && resolved.code === 'ELOOP';
          reject(loop ? 'a symbolic link that loops back on itself' : 'a symbolic link to nothing', 'Remove the link or point it at an image inside the input folder.');
          continue;
        }
        if (target !== realRoot && !target.startsWith(realRoot + sep)) {
          reject(`a symbolic link out of the input folder (to ${relative(realRoot, target)})`, 'Copy the image into the input folder; links out of it are not followed.');
          continue;
        }
      }
      const info = await stat(path);
      if (info.isDirectory()) {
        reject('a folder, though its name looks like an image', 'Rename it, or add it to the ignore patterns.');
        continue;
      }
      if (!info.isFile()) {
        reject('not a regular file', 'Only regular image files are analysed.');
        continue;
      }
      if (await isChargenOutput(path)) {
        options.onChargenOutput?.(relativePath);
        outputFolders.add(dirname(relativePath));
        outputStems.add(relativePath.replace(/\.[^./\\]*$/, '').replace(/\.thought-\d+$/i, ''));
        continue;
      }
      entries.push({ kind: 'file', path, relativePath, sizeBytes: info.size });
    } catch (error) {
      reject(`cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'Check the file’s permissions.');
    }
  }
  // Every file the scan sees is taken or named: the rest of the folder, as the caller reports it.
  const isOutputFile = (relativePath: string) =>
    (basename(relativePath) === 'index.html' && outputFolders.has(dirname(relativePath))) ||
    outputStems.has(relativePath.replace(/\.(json|thought-signature)$/i, ''));
  for (const relativePath of await listUnmatchedFiles({ root, matched: names, ignore })) {
    if (!isOutputFile(relativePath)) entries.push({ kind: 'unmatched', path: join(root, relativePath), relativePath });
  }
  return entries;
}
