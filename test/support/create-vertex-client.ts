import { GoogleGenAI } from '@google/genai';
import { Storage, type Bucket } from '@google-cloud/storage';
import { createFixedTokenAuthClient } from '../../lib/fixed-token-auth-client.ts';

/** The real SDK in Vertex AI mode (v1beta1, projects/test-project/locations/us-central1), pointed at the emulator. */
export function createVertexClient(baseUrl: string): GoogleGenAI {
  return new GoogleGenAI({
    vertexai: true,
    project: 'test-project',
    location: 'us-central1',
    googleAuthOptions: { authClient: createFixedTokenAuthClient('emulator-test-token') },
    httpOptions: { baseUrl },
  });
}

/** The tests' bucket on the emulator's Cloud Storage, through the real client; no retries, so an injected fault shows. */
export function openTestBucket(baseUrl: string): Bucket {
  return new Storage({ apiEndpoint: baseUrl, projectId: 'test-project', retryOptions: { autoRetry: false } }).bucket('chargen-vertex');
}

/** Writes a JSONL object (one JSON value a line) and returns its `gs://` URI, as a batch job's input names it. */
export async function writeJsonLines(bucket: Bucket, name: string, lines: readonly unknown[]): Promise<string> {
  await bucket.file(name).save(lines.map((line) => `${JSON.stringify(line)}\n`).join(''), { resumable: false, contentType: 'application/jsonl' });
  return `gs://${bucket.name}/${name}`;
}

/** Reads a JSONL object back, a parsed value a line. */
export async function readJsonLines(bucket: Bucket, name: string): Promise<Record<string, unknown>[]> {
  const [bytes] = await bucket.file(name).download();
  return bytes.toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}
