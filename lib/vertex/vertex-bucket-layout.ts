/**
 * Where chargen keeps a workspace's objects in the Vertex AI backend's bucket, all under
 * `gs://<bucket>/<prefix>/<workspace id>/` (docs/emulator.md, issue 18):
 * - `references/<sha256>`: the reference images, content-addressed, so one upload serves every job and every run;
 * - `requests/<stage>/<displayName>.jsonl`: a job's input, named after the job, so a resumed run finds it again;
 * - `results/<stage>/<displayName>/`: the job's output prefix (Vertex writes `prediction-model-<time>/predictions*.jsonl`
 *   under it), one per job, so a job's results are never mixed with another's.
 * Pure: names only, nothing is asked of Cloud Storage.
 */
import type { VertexTarget } from '../../schemas/vertex-settings.ts';

export type { VertexTarget };

interface WorkspacePlace {
  target: VertexTarget;
  workspaceId: string;
}

/** One segment of an object name: it must not add folders of its own nor hold a line break. */
function checkSegment(kind: string, value: string): string {
  if (value === '' || value.includes('/') || /[\r\n]/.test(value) || value === '.' || value === '..') {
    throw new Error(`A ${kind} must be one non-empty segment of an object name (no "/", no line break), not ${JSON.stringify(value)}.`);
  }
  return value;
}

/** `<prefix>/<workspace id>/`; the config refuses slashes around a prefix, and any left here are ignored. */
export function toWorkspaceFolder({ target, workspaceId }: WorkspacePlace): string {
  const prefix = target.prefix.replace(/^\/+|\/+$/g, '');
  return `${prefix ? `${prefix}/` : ''}${checkSegment('workspace id', workspaceId)}/`;
}

export function toReferenceObjectName(options: WorkspacePlace & { sha256: string }): string {
  if (!/^[0-9a-f]{64}$/.test(options.sha256)) throw new Error(`A reference's name is its sha256 (64 lowercase hex digits), not ${JSON.stringify(options.sha256)}.`);
  return `${toWorkspaceFolder(options)}references/${options.sha256}`;
}

export function toRequestObjectName(options: WorkspacePlace & { stage: string; displayName: string }): string {
  return `${toWorkspaceFolder(options)}requests/${checkSegment('stage', options.stage)}/${checkSegment('display name', options.displayName)}.jsonl`;
}

/** The job's output prefix (its `dest`), ending with `/`. */
export function toResultPrefix(options: WorkspacePlace & { stage: string; displayName: string }): string {
  return `${toWorkspaceFolder(options)}results/${checkSegment('stage', options.stage)}/${checkSegment('display name', options.displayName)}/`;
}

export function toGcsUri(bucket: string, objectName: string): string {
  return `gs://${bucket}/${objectName}`;
}

/**
 * `gs://<bucket>/<object name>` read back; the object name may be empty (`gs://bucket`, `gs://bucket/`) or a folder
 * ending with `/`. Bucket names are 3 to 222 characters of lowercase letters, digits, `-`, `_` and `.` (Cloud
 * Storage's naming rules), which is what is checked.
 */
export function parseGcsUri(uri: string): { bucket: string; objectName: string } {
  const match = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])(?:\/([\s\S]*))?$/.exec(uri);
  if (!match?.[1]) throw new Error(`Not a Cloud Storage URI (gs://<bucket>/<object>): ${JSON.stringify(uri)}.`);
  return { bucket: match[1], objectName: match[2] ?? '' };
}
