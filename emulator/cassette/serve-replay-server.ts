import { createReplayHandler, type ReplayMiss } from './create-replay-handler.ts';
import { serveHandler } from '../../lib/serve-handler.ts';

export interface RunningReplayServer {
  baseUrl: string;
  misses(): ReplayMiss[];
  close(): Promise<void>;
}

/** A replay server on 127.0.0.1:port; rejects with a CassetteError when the cassette is missing or invalid. */
export async function serveReplayServer(options: { cassetteDirectory: string; port: number }): Promise<RunningReplayServer> {
  const handler = await createReplayHandler({ cassetteDirectory: options.cassetteDirectory });
  const served = await serveHandler({ handler, port: options.port });
  return { baseUrl: served.baseUrl, misses: () => handler.misses(), close: () => served.close() };
}
