import { toStorableUrl } from '../../lib/store/remember-backend.ts';
import { randomBytes } from 'node:crypto';
import { toGeminiCallError } from '../../lib/gemini/call-with-retry.ts';
import { callStorageWithRetry } from '../../lib/vertex/call-storage.ts';
import type { Backend } from '../../lib/gemini/connected-backend.ts';
import { findApplicationDefaultCredentials } from '../find-application-default-credentials.ts';
import type { DoctorContext } from './doctor-context.ts';
import type { DoctorCheck } from './doctor-report.ts';

// The commands and role names below are Google's (gcloud reference pages for `auth application-default login`,
// `services enable`, `storage buckets create` and `add-iam-policy-binding`; the IAM role lists of Vertex AI and
// Cloud Storage: roles/storage.objectAdmin holds storage.objects.* and no storage.buckets.get).
export const credentialsFix = 'run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file';

type VertexBackend = Backend & { vertex: NonNullable<Backend['vertex']> };

function requireVertex(backend: Backend): VertexBackend['vertex'] {
  if (!backend.vertex) throw new Error('a Vertex AI check was asked of a backend that is not Vertex AI');
  return backend.vertex;
}

/** The principal for a grant: the service account when the credentials name one, else the user's placeholder. */
function describePrincipal(email: string | undefined): string {
  return email ? `serviceAccount:${email}` : 'user:<your account>';
}

/** What to do about a refused Vertex AI call: enable the API, grant the role, or log in again. */
export function describeVertexAccessFix(options: { error: unknown; project: string; operation: string }): string {
  const failure = toGeminiCallError(options.operation, options.error);
  const text = failure.message;
  if (failure.status === 401) return credentialsFix;
  if (failure.status === 403 && /SERVICE_DISABLED|has not been used|is disabled/i.test(text)) {
    return `enable the Vertex AI API: gcloud services enable aiplatform.googleapis.com --project=${options.project}`;
  }
  if (failure.status === 403) {
    return `grant the Vertex AI User role: gcloud projects add-iam-policy-binding ${options.project} --member=user:<your account> --role=roles/aiplatform.user`;
  }
  return 'see the message; when it says the service is unavailable, try again later';
}

/** A Cloud Storage call through a run's retry policy: its result, or the failure with its HTTP status and one line for people. */
async function callStorage<T>(context: DoctorContext, operation: string, call: () => Promise<T>): Promise<{ value: T } | { status?: number; failure: string }> {
  try {
    return { value: await callStorageWithRetry({ operation, call, retry: context.retry }) };
  } catch (error) {
    const failure = toGeminiCallError(operation, error);
    const message = failure.message.startsWith(`${operation}: `) ? failure.message.slice(operation.length + 2) : failure.message;
    return { ...(failure.status !== undefined ? { status: failure.status } : {}), failure: `${operation}: ${failure.status ?? 'error'} ${message}` };
  }
}

/**
 * Application Default Credentials found, and a token obtained with them (the cheapest real proof: nothing billed);
 * with CHARGEN_BASE_URL none are needed, the clients send a fixed token to that endpoint.
 */
export async function checkCredentials(context: DoctorContext): Promise<DoctorCheck & { principal?: string }> {
  const { storage } = requireVertex(context.backend);
  const baseUrl = context.backend.connection.baseUrl;
  // Named without what a URL may carry beside its address (user, password, query): the doctor's report is printed.
  if (baseUrl) return { name: 'credentials', status: 'ok', detail: `none needed: CHARGEN_BASE_URL (${URL.canParse(baseUrl) ? toStorableUrl(baseUrl) : 'set'}) takes a fixed token` };
  const source = await findApplicationDefaultCredentials({ env: process.env });
  try {
    const token = await storage.authClient.getAccessToken();
    if (!token) throw new Error('no access token was given');
    const email = await storage.authClient.getCredentials().then((credentials) => credentials.client_email, () => undefined);
    const who = email ? ` as ${email}` : '';
    return { name: 'credentials', status: 'ok', detail: `a token obtained from ${source?.description ?? 'Application Default Credentials'}${who}`, ...(email ? { principal: email } : {}) };
  } catch (error) {
    const detail = `no token from ${source?.description ?? 'Application Default Credentials'}: ${error instanceof Error ? error.message : String(error)}; the other items need one`;
    return { name: 'credentials', status: 'failed', detail, fix: credentialsFix };
  }
}

/** `buckets.get`: the bucket's location, or a failed item when it is missing; a 403 is no failure (see below). */
async function readBucketLocation(context: DoctorContext): Promise<{ location?: string; note?: string; failed?: DoctorCheck }> {
  const { target, storage } = requireVertex(context.backend);
  const read = await callStorage(context, 'buckets.get', () => storage.bucket(target.bucket).getMetadata());
  if ('value' in read) return read.value[0].location ? { location: read.value[0].location } : {};
  const create = `make it: gcloud storage buckets create gs://${target.bucket} --project=${target.project} --location=<region of your jobs, e.g. us-central1>`;
  if (read.status === 404) return { failed: { name: 'bucket', status: 'failed', detail: `gs://${target.bucket} does not exist (${read.failure})`, fix: `${create}, or set vertex.bucket to one that exists` } };
  // roles/storage.objectAdmin, all a run needs, holds no storage.buckets.get: the write below decides.
  if (read.status === 403) return { note: 'its metadata is not readable with these credentials (no storage.buckets.get; a run needs none)' };
  return { failed: { name: 'bucket', status: 'failed', detail: read.failure, fix: 'see the message; when it says the service is unavailable, try again later' } };
}

/**
 * The bucket exists and this identity may write and delete under the prefix, by the cheapest real calls: buckets.get,
 * then a tiny probe object written only if absent (`ifGenerationMatch: 0`, as a run writes its references) and
 * deleted again.
 */
export async function checkBucket(context: DoctorContext, options: { principal?: string } = {}): Promise<DoctorCheck> {
  const { target, storage } = requireVertex(context.backend);
  const where = `gs://${target.bucket}/${target.prefix}/`;
  const read = await readBucketLocation(context);
  if (read.failed) return read.failed;
  const grant = `grant write access to the bucket: gcloud storage buckets add-iam-policy-binding gs://${target.bucket} --member=${describePrincipal(options.principal)} --role=roles/storage.objectAdmin`;
  const file = storage.bucket(target.bucket).file(`${target.prefix}/chargen-doctor-${randomBytes(6).toString('hex')}`);
  const written = await callStorage(context, 'objects.insert', () =>
    file.save('chargen doctor: bucket check\n', { resumable: false, contentType: 'text/plain', preconditionOpts: { ifGenerationMatch: 0 } }),
  );
  if (!('value' in written)) {
    const fix = written.status === 403 ? grant : written.status === 404 ? `make the bucket: gcloud storage buckets create gs://${target.bucket} --location=<region>` : 'see the message';
    return { name: 'bucket', status: 'failed', detail: `a probe object could not be written under ${where}: ${written.failure}`, fix };
  }
  const found = `gs://${target.bucket} ${read.location ? `(${read.location}) ` : ''}exists${read.note ? `, though ${read.note}` : ''}`;
  const deleted = await callStorage(context, 'objects.delete', () => file.delete());
  if (!('value' in deleted)) {
    const detail = `${found}; a probe object was written under ${where} but not deleted: ${deleted.failure}`;
    return { name: 'bucket', status: 'failed', detail, fix: `${grant} (it holds storage.objects.delete); then delete ${file.name} by hand` };
  }
  return { name: 'bucket', status: 'ok', detail: `${found}; a probe object was written under ${where} (ifGenerationMatch 0) and deleted` };
}
