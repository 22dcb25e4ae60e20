import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from './atomic-file.ts';
import { backendFilePath, backendsDirectory, backendStateDirectory } from './workspace-layout.ts';

/**
 * `backends/<identity>/backend.json`: which backend that folder's answers and jobs belong to, and when a run last
 * used it, so that a new shell (without the key or CHARGEN_BASE_URL) still finds them. Never the key: an endpoint is
 * kept as its origin and path only.
 */
const backendFileSchema = z
  .object({
    kind: z.literal('chargen-backend'),
    version: z.literal(1),
    identity: z.string().min(1),
    backend: z.enum(['gemini', 'endpoint', 'emulator']),
    baseUrl: z.url().optional(),
    lastUsedAt: z.iso.datetime(),
  })
  .strict();

export interface RememberedBackend {
  /** The folder's name: `gemini`, `emulator` or `endpoint-<hash>`. */
  identity: string;
  backend: 'gemini' | 'endpoint' | 'emulator';
  /** The CHARGEN_BASE_URL an endpoint was reached at, when a run recorded it. */
  baseUrl?: string;
  /** Absent for a folder written before chargen remembered backends. */
  lastUsedAt?: string;
}

const fix = 'It only says which backend the folder belongs to: delete it, and the next run writes it again.';

function toBackendKind(identity: string): RememberedBackend['backend'] {
  return identity === 'gemini' || identity === 'emulator' ? identity : 'endpoint';
}

/** Pure: an endpoint URL without what must never be kept (user, password, query, fragment). */
export function toStorableUrl(url: string): string {
  if (!URL.canParse(url)) return 'CHARGEN_BASE_URL (not a URL)';
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** Records that a run uses this backend now (written when it connects, so a run killed later is remembered too). */
export async function rememberBackend(options: { workspaceDirectory: string; identity: string; baseUrl?: string; now: () => number }): Promise<void> {
  const backend = toBackendKind(options.identity);
  await writeJsonAtomic(backendFilePath(backendStateDirectory(options.workspaceDirectory, options.identity)), {
    kind: 'chargen-backend',
    version: 1,
    identity: options.identity,
    backend,
    ...(backend === 'endpoint' && options.baseUrl && URL.canParse(options.baseUrl) ? { baseUrl: toStorableUrl(options.baseUrl) } : {}),
    lastUsedAt: new Date(options.now()).toISOString(),
  });
}

/** Every backend the workspace holds answers or jobs of, the one used last first (unknown ones after, by name). */
export async function readRememberedBackends(workspaceDirectory: string): Promise<RememberedBackend[]> {
  const folder = backendsDirectory(workspaceDirectory);
  const names = await readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const backends: RememberedBackend[] = [];
  for (const entry of names.filter((name) => name.isDirectory())) {
    const file = await readJsonFile(backendFilePath(join(folder, entry.name)), backendFileSchema, fix);
    if (file && file.identity === entry.name) {
      backends.push({ identity: file.identity, backend: file.backend, ...(file.baseUrl ? { baseUrl: file.baseUrl } : {}), lastUsedAt: file.lastUsedAt });
    } else {
      backends.push({ identity: entry.name, backend: toBackendKind(entry.name) });
    }
  }
  return backends.sort((left, right) => (right.lastUsedAt ?? '').localeCompare(left.lastUsedAt ?? '') || left.identity.localeCompare(right.identity));
}

/** Pure: how people know a backend: the Gemini API, the built-in emulator, or the endpoint's URL. */
export function describeBackend(backend: Pick<RememberedBackend, 'identity' | 'backend' | 'baseUrl'>): string {
  if (backend.backend === 'gemini') return 'the Gemini API';
  if (backend.backend === 'emulator') return 'the built-in emulator';
  return backend.baseUrl ?? `${backend.identity} (a CHARGEN_BASE_URL)`;
}
