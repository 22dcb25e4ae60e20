import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultConfigInput } from '../../emulator/fault-config.ts';

export interface EmulatorStats {
  uploads: number;
  uploadedBytesHeld: number;
  peakUploadedBytesHeld: number;
  batchesCreated: number;
  downloads: number;
  objectsWritten: number;
  objectDownloads: number;
  generateContentCalls: number;
  requestsByModel: Record<string, number>;
  faultsInjected: Record<string, number>;
  clock: { now: string; offsetMilliseconds: number };
}

export interface ListedJob {
  name: string;
  displayName: string;
  state: string;
  createTime: string;
  endTime: string | undefined;
}

/** The admin surface (no key, never faulted) and the one API call the test makes itself, which is faulted like any other. */
export function createEmulatorAdmin(baseUrl: string) {
  const postJson = async (path: string, body: unknown): Promise<unknown> => {
    const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };

  /** Injected 429/503s hit the test's own calls too: retry them, as any client must (the emulator does not time us out). */
  async function fetchThroughFaults(url: string, init: RequestInit): Promise<Response> {
    for (let attempt = 1; ; attempt += 1) {
      const response = await fetch(url, init);
      if ((response.status !== 429 && response.status !== 503) || attempt >= 30) return response;
      await response.body?.cancel();
      await sleep(10);
    }
  }

  return {
    async readStats(): Promise<EmulatorStats> {
      return (await (await fetch(`${baseUrl}/_emulator/stats`)).json()) as EmulatorStats;
    },
    async replaceFaults(faults: FaultConfigInput): Promise<void> {
      await postJson('/_emulator/faults', faults);
    },
    async advanceClock(milliseconds: number): Promise<void> {
      await postJson('/_emulator/clock', { advanceMilliseconds: milliseconds });
    },
    /** Forgets files, jobs and counters; faults go back to the `--faults` file and the clock offset to 0. */
    async reset(): Promise<void> {
      await postJson('/_emulator/reset', {});
    },
    /** Every batch job as the API lists it, page by page, with an explicit pageSize (without one the list is empty). */
    async listBatchJobs(apiKey: string): Promise<ListedJob[]> {
      const jobs: ListedJob[] = [];
      let pageToken: string | undefined;
      do {
        const query = `pageSize=100${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`;
        const response = await fetchThroughFaults(`${baseUrl}/v1beta/batches?${query}`, { headers: { 'x-goog-api-key': apiKey } });
        if (!response.ok) throw new Error(`batches.list: ${response.status} ${await response.text()}`);
        const page = (await response.json()) as { operations?: { metadata?: Record<string, unknown> }[]; nextPageToken?: string };
        for (const operation of page.operations ?? []) {
          const metadata = operation.metadata ?? {};
          jobs.push({
            name: String(metadata['name'] ?? ''),
            displayName: String(metadata['displayName'] ?? ''),
            state: String(metadata['state'] ?? ''),
            createTime: String(metadata['createTime'] ?? ''),
            endTime: typeof metadata['endTime'] === 'string' ? metadata['endTime'] : undefined,
          });
        }
        pageToken = page.nextPageToken;
      } while (pageToken);
      return jobs;
    },
    /** Every Vertex AI batch prediction job of a project and location, page by page (any bearer token is taken). */
    async listPredictionJobs(options: { project: string; location: string }): Promise<ListedJob[]> {
      const jobs: ListedJob[] = [];
      let pageToken: string | undefined;
      do {
        const query = `pageSize=100${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`;
        const url = `${baseUrl}/v1beta1/projects/${options.project}/locations/${options.location}/batchPredictionJobs?${query}`;
        const response = await fetchThroughFaults(url, { headers: { authorization: 'Bearer emulator-test-token' } });
        if (!response.ok) throw new Error(`batchPredictionJobs.list: ${response.status} ${await response.text()}`);
        const page = (await response.json()) as { batchPredictionJobs?: Record<string, unknown>[]; nextPageToken?: string };
        for (const job of page.batchPredictionJobs ?? []) {
          jobs.push({
            name: String(job['name'] ?? ''),
            displayName: String(job['displayName'] ?? ''),
            state: String(job['state'] ?? ''),
            createTime: String(job['createTime'] ?? ''),
            endTime: typeof job['endTime'] === 'string' ? job['endTime'] : undefined,
          });
        }
        pageToken = page.nextPageToken;
      } while (pageToken);
      return jobs;
    },
  };
}

export type EmulatorAdmin = ReturnType<typeof createEmulatorAdmin>;
