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

  /** A job list read to its last page (pageSize 100, then each nextPageToken), each job as the tests compare them. */
  async function listEveryPage(options: { operation: string; url: (query: string) => string; headers: Record<string, string>; readItems: (page: Record<string, unknown>) => Record<string, unknown>[] }): Promise<ListedJob[]> {
    const jobs: ListedJob[] = [];
    let pageToken: string | undefined;
    do {
      const query = `pageSize=100${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`;
      const response = await fetchThroughFaults(options.url(query), { headers: options.headers });
      if (!response.ok) throw new Error(`${options.operation}: ${response.status} ${await response.text()}`);
      const page = (await response.json()) as Record<string, unknown>;
      for (const job of options.readItems(page)) {
        jobs.push({
          name: String(job['name'] ?? ''),
          displayName: String(job['displayName'] ?? ''),
          state: String(job['state'] ?? ''),
          createTime: String(job['createTime'] ?? ''),
          endTime: typeof job['endTime'] === 'string' ? job['endTime'] : undefined,
        });
      }
      pageToken = typeof page['nextPageToken'] === 'string' && page['nextPageToken'] !== '' ? page['nextPageToken'] : undefined;
    } while (pageToken);
    return jobs;
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
    listBatchJobs: (apiKey: string): Promise<ListedJob[]> =>
      listEveryPage({
        operation: 'batches.list',
        url: (query) => `${baseUrl}/v1beta/batches?${query}`,
        headers: { 'x-goog-api-key': apiKey },
        readItems: (page) => (Array.isArray(page['operations']) ? page['operations'] : []).map((operation) => (operation as { metadata?: Record<string, unknown> }).metadata ?? {}),
      }),
    /** Every Vertex AI batch prediction job of a project and location, page by page (any bearer token is taken). */
    listPredictionJobs: (options: { project: string; location: string }): Promise<ListedJob[]> =>
      listEveryPage({
        operation: 'batchPredictionJobs.list',
        url: (query) => `${baseUrl}/v1beta1/projects/${options.project}/locations/${options.location}/batchPredictionJobs?${query}`,
        headers: { authorization: 'Bearer emulator-test-token' },
        readItems: (page) => (Array.isArray(page['batchPredictionJobs']) ? page['batchPredictionJobs'] : []) as Record<string, unknown>[],
      }),
  };
}

export type EmulatorAdmin = ReturnType<typeof createEmulatorAdmin>;
