import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  const server = createServer((request, response) => emulator.handle(request, response));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    emulator,
    server,
    baseUrl: `http://${shownHost}:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await emulator.close();
    },
  };
}
