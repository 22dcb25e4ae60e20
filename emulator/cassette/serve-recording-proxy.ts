import { createRecordingHandler, type RecordingHandlerOptions } from './create-recording-handler.ts';
import { serveHandler } from '../../lib/serve-handler.ts';

export interface RunningRecordingProxy {
  baseUrl: string;
  /** Waits for interactions under way and writes `cassette.json` (it is also rewritten after each one). */
  saveCassette(): Promise<void>;
  /** Saves the cassette, then stops listening. */
  close(): Promise<void>;
}

/** A recording proxy on 127.0.0.1:port: point the SDK's `httpOptions.baseUrl` at `baseUrl`. */
export async function serveRecordingProxy(options: RecordingHandlerOptions & { port: number }): Promise<RunningRecordingProxy> {
  const handler = createRecordingHandler(options);
  const served = await serveHandler({ handler, port: options.port });
  return {
    baseUrl: served.baseUrl,
    saveCassette: () => handler.saveCassette(),
    async close() {
      try {
        await handler.saveCassette();
      } finally {
        await served.close();
      }
    },
  };
}
