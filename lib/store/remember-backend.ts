import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from './atomic-file.ts';
import { backendFilePath, backendsDirectory, backendStateDirectory } from './workspace-layout.ts';
import { describeVertexTarget, type VertexTarget } from '../../schemas/vertex-settings.ts';

/**
 * `backends/<identity>/backend.json`: which backend that folder's answers and jobs belong to, and when a run last
 * used it, so that a new shell (without the key or CHARGEN_BASE_URL) still finds them. Never the key: an endpoint is
 * kept as its origin and path only. A Vertex AI backend keeps its project, location, bucket and prefix.
 */
const vertexTargetSchema = z.object({ project: z.string().min(1), location: z.string().min(1), bucket: z.string().min(1), prefix: z.string().min(1) }).strict();

const backendFileSchema = z
  .object({
    kind: z.literal('chargen-backend'),
    version: z.literal(1),
    identity: z.string().min(1),
    backend: z.enum(['gemini', 'endpoint', 'emulator', 'vertex']),
    baseUrl: z.url().optional(),
    vertex: vertexTargetSchema.optional(),
    lastUsedAt: z.iso.datetime(),
  })
  .strict();

export interface RememberedBackend {
  /** The folder's name: `gemini`, `emulator`, `endpoint-<hash>` or `vertex-<hash>`. */
  identity: string;
  backend: 'gemini' | 'endpoint' | 'emulator' | 'vertex';
  /** The CHARGEN_BASE_URL an endpoint (or a Vertex backend) was reached at, when a run recorded it. */
  baseUrl?: string;
  /** Where a Vertex backend's jobs ran and its files are, when a run recorded it. */
  vertex?: VertexTarget;
  /** Absent for a folder written before chargen remembered backends. */
  lastUsedAt?: string;
}

const fix = 'It only says which backend the folder belongs to: delete it, and the next run writes it again.';

function toBackendKind(identity: string): RememberedBackend['backend'] {
  if (identity === 'gemini' || identity === 'emulator') return identity;
  return identity.startsWith('vertex-') ? 'vertex' : 'endpoint';
}

/** Pure: an endpoint URL without what must never be kept (user, password, query, fragment). */
export function toStorableUrl(url: string): string {
  if (!URL.canParse(url)) return 'CHARGEN_BASE_URL (not a URL)';
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** Records that a run uses this backend now (written when it connects, so a run killed later is remembered too). */
export async function rememberBackend(options: { workspaceDirectory: string; identity: string; baseUrl?: string; vertex?: VertexTarget; now: () => number }): Promise<void> {
  const backend = toBackendKind(options.identity);
  const { project, location, bucket, prefix } = options.vertex ?? {};
  await writeJsonAtomic(backendFilePath(backendStateDirectory(options.workspaceDirectory, options.identity)), {
    kind: 'chargen-backend',
    version: 1,
    identity: options.identity,
    backend,
    ...((backend === 'endpoint' || backend === 'vertex') && options.baseUrl && URL.canParse(options.baseUrl) ? { baseUrl: toStorableUrl(options.baseUrl) } : {}),
    ...(backend === 'vertex' && options.vertex ? { vertex: { project, location, bucket, prefix } } : {}),
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
      backends.push({ identity: file.identity, backend: file.backend, ...(file.baseUrl ? { baseUrl: file.baseUrl } : {}), ...(file.vertex ? { vertex: file.vertex } : {}), lastUsedAt: file.lastUsedAt });
    } else {
      backends.push({ identity: entry.name, backend: toBackendKind(entry.name) });
    }
  }
  return backends.sort((left, right) => (right.lastUsedAt ?? '').localeCompare(left.lastUsedAt ?? '') || left.identity.localeCompare(right.identity));
}

/** Pure: how people know a backend: the Gemini API, the built-in emulator, the endpoint's URL, or the Vertex AI target. */
export function describeBackend(backend: Pick<RememberedBackend, 'identity' | 'backend' | 'baseUrl' | 'vertex'>): string {
  if (backend.backend === 'gemini') return 'the Gemini API';
  if (backend.backend === 'emulator') return 'the built-in emulator';
  if (backend.backend === 'vertex') {
    const at = backend.baseUrl ? ` at ${backend.baseUrl}` : '';
    return backend.vertex ? `${describeVertexTarget(backend.vertex)}${at}` : `${backend.identity} (Vertex AI${at})`;
  }
  return backend.baseUrl ?? `${backend.identity} (a CHARGEN_BASE_URL)`;
}
