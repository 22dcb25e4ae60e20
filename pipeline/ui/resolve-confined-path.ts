import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * The real path of `path` (relative to `folder`) when it lies inside `folder` once links are followed; undefined for
 * anything that leaves it (`..`, an absolute path, a link pointing out) or does not exist.
 */
export async function resolveConfinedPath(options: { folder: string; path: string }): Promise<string | undefined> {
  if (options.path.includes('\0')) return undefined;
  const root = await realpath(options.folder).catch(() => undefined);
  if (!root) return undefined;
  const target = await realpath(resolve(root, options.path)).catch(() => undefined);
  if (!target) return undefined;
  const inside = relative(root, target);
  return inside !== '' && !inside.startsWith(`..${sep}`) && inside !== '..' && !isAbsolute(inside) ? target : undefined;
}
