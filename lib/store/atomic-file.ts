import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import type { z } from 'zod';
import { formatZodIssues } from '../../schemas/format-zod-issues.ts';
import { WorkspaceFileError } from '../errors.ts';

/** A file's content whole, or in pieces (lines, say) made as they are written, so a large file is never one string. */
export type FileContent = string | Uint8Array | Iterable<string>;

/** How much of a content in pieces is gathered before it is written: few writes, and little held at once. */
const writeBatchCharacters = 256 * 1024;

async function writeContent(handle: FileHandle, data: FileContent): Promise<void> {
  if (typeof data === 'string' || data instanceof Uint8Array) return handle.writeFile(data);
  let batch: string[] = [];
  let characters = 0;
  for (const piece of data) {
    batch.push(piece);
    characters += piece.length;
    if (characters < writeBatchCharacters) continue;
    // writeFile on a handle writes at its position, all of it (write may write part).
    await handle.writeFile(batch.join(''));
    batch = [];
    characters = 0;
  }
  if (batch.length > 0) await handle.writeFile(batch.join(''));
}

/**
 * Writes a file so that a crash at any moment leaves either the old content or the new, never a mix:
 * temporary file in the same folder, fsync, rename over the target, fsync the folder.
 */
export async function writeFileAtomic(path: string, data: FileContent): Promise<void> {
  const directory = dirname(path);
  await mkdir(directory, { recursive: true });
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'w');
  try {
    await writeContent(handle, data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    // A folder in the way, say: the target is as it was, and no temporary file stays behind.
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(directory);
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a folder; the rename is still atomic there.
  } finally {
    await handle.close();
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Reads a JSON file and validates it in full; `undefined` when it does not exist. Anything else wrong with it is a
 * WorkspaceFileError that names the file and the field.
 */
export async function readJsonFile<T>(path: string, schema: z.ZodType<T>, fix: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new WorkspaceFileError({ path, problem: 'cannot be read', fix, cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new WorkspaceFileError({ path, problem: 'is not valid JSON', fix, cause: error });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new WorkspaceFileError({ path, problem: `does not match its schema (${formatZodIssues(result.error.issues)})`, fix });
  }
  return result.data;
}
