import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { z } from 'zod';
import { WorkspaceLockedError } from '../errors.ts';
import { workspaceLockPath } from './workspace-layout.ts';

const lockSchema = z.object({ pid: z.number().int(), hostname: z.string(), command: z.string(), startedAt: z.string() }).strict();
export type LockHolder = z.infer<typeof lockSchema>;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One chargen process per workspace: the lock file is created exclusively; one left by a process that is gone (same
 * host) is taken over, one held by a live process is an error that says who holds it.
 */
export async function acquireWorkspaceLock(options: { directory: string; command: string; now: () => number }): Promise<{ release(): Promise<void> }> {
  await mkdir(options.directory, { recursive: true });
  const path = workspaceLockPath(options.directory);
  const content = JSON.stringify({ pid: process.pid, hostname: hostname(), command: options.command, startedAt: new Date(options.now()).toISOString() });
  for (let attempt = 0; attempt < 3; attempt += 1) {
    // Written whole under a temporary name, then linked into place (which fails if a lock exists): the lock file is
    // never seen empty, even after a kill at the worst moment.
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, content);
      await link(temporary, path);
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(temporary, { force: true });
    }
    const holder = lockSchema.safeParse(await readFile(path, 'utf8').then((text) => JSON.parse(text) as unknown).catch(() => undefined));
    if (holder.success && (holder.data.hostname !== hostname() || isAlive(holder.data.pid))) {
      const where = holder.data.hostname === hostname() ? `process ${holder.data.pid}` : `process ${holder.data.pid} on ${holder.data.hostname}`;
      throw new WorkspaceLockedError({
        message: `The workspace ${options.directory} is in use by ${where} (\`chargen ${holder.data.command}\`, since ${holder.data.startedAt}). Wait for it to finish, or stop it; if that process is gone, delete ${path}.`,
      });
    }
    if (!holder.success) {
      // Unreadable: either being written this instant by another process, or torn by a crash long ago.
      const age = options.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? 0);
      if (age < 10_000) throw new WorkspaceLockedError({ message: `The workspace ${options.directory} is being locked by another chargen process right now; try again.` });
    }
    // Left by a process that no longer runs: take it over.
    await rm(path, { force: true });
  }
  throw new WorkspaceLockedError({ message: `Could not take the lock ${path}; delete it if no chargen is running.` });
}

/**
 * Who holds the workspace now, if anyone: a readable lock of a live process (or of another host, which cannot be
 * checked). A lock left by a process that is gone is nobody's.
 */
export async function readLockHolder(directory: string): Promise<LockHolder | undefined> {
  const text = await readFile(workspaceLockPath(directory), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const holder = lockSchema.safeParse(value);
  if (!holder.success) return undefined;
  return holder.data.hostname !== hostname() || isAlive(holder.data.pid) ? holder.data : undefined;
}
