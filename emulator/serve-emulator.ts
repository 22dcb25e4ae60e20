import type { Server } from 'node:http';
import { serveHandler } from '../lib/serve-handler.ts';
import { createEmulator, type Emulator, type EmulatorDependencies } from './create-emulator.ts';
import type { EmulatorOptionsInput } from './emulator-options.ts';

export interface RunningEmulator {
  emulator: Emulator;
  server: Server;
  /** e.g. `http://127.0.0.1:41234`: pass it as the SDK's `httpOptions.baseUrl`. */
  baseUrl: string;
  close(): Promise<void>;
}

/** Serves the emulator on host:port (port 0 picks a free one); it binds to loopback unless told otherwise. */
export async function serveEmulator(options: {
  host?: string;
  port?: number;
  emulator?: EmulatorOptionsInput;
  dependencies?: EmulatorDependencies;
} = {}): Promise<RunningEmulator> {
  const emulator = createEmulator(options.emulator ?? {}, options.dependencies ?? {});
  const served = await serveHandler({ handler: (request, response) => emulator.handle(request, response), port: options.port ?? 0, host: options.host });
  return {
    emulator,
    server: served.server,
    baseUrl: served.baseUrl,
    async close() {
      await served.close();
      await emulator.close();
    },
  };
}
