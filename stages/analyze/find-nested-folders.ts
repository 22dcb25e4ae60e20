import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** A folder chargen writes to (the output folder, the workspace), and where it lies inside the input folder. */
export interface NestedFolder {
  role: string;
  /** Relative to the input folder, with `/` separators (a glob's own). */
  relativePath: string;
}

async function spellings(path: string): Promise<string[]> {
  const absolute = resolve(path);
  const real = await realpath(absolute).catch(() => undefined);
  return real && real !== absolute ? [absolute, real] : [absolute];
}

/**
 * Which of the folders chargen writes to lie inside the input folder (by path, and by real path where they exist),
 * so the scan can leave them out: an output read back as input would be analysed and drawn again, paid every run. A
 * folder that is the input folder itself is not one of them (there is no telling outputs from inputs by folder then).
 */
export async function findNestedFolders(options: { inputDirectory: string; folders: readonly { role: string; path: string }[] }): Promise<NestedFolder[]> {
  const roots = await spellings(options.inputDirectory);
  const nested: NestedFolder[] = [];
  for (const folder of options.folders) {
    for (const root of roots) {
      const inside = (await spellings(folder.path)).map((path) => relative(root, path)).find((path) => path !== '' && !path.startsWith('..') && !isAbsolute(path));
      if (inside === undefined) continue;
      nested.push({ role: folder.role, relativePath: inside.split(sep).join('/') });
      break;
    }
  }
  return nested;
}

/** One line for the log: what the scan leaves out, and why; undefined when it leaves out nothing. */
export function describeLeftOut(options: { nested: readonly NestedFolder[]; chargenOutputs: { count: number; example?: string } }): string | undefined {
  const parts: string[] = [];
  if (options.nested.length > 0) {
    const named = options.nested.map((folder) => `the ${folder.role} ${folder.relativePath}/`).join(' and ');
    parts.push(`${named} ${options.nested.length === 1 ? 'is' : 'are'} inside the input folder`);
  }
  const { count, example } = options.chargenOutputs;
  if (count > 0) parts.push(`${count} image${count === 1 ? '' : 's'} chargen made earlier (a chargen sidecar beside each${example ? `, e.g. ${example}` : ''}; copy one without its sidecar to use it as input)`);
  return parts.length > 0 ? `left out of the scan, never read as input: ${parts.join('; ')}` : undefined;
}
