import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createEmulatorAdmin, type EmulatorStats, type ListedJob } from '../../test/support/emulator-admin.ts';
import { apiKey, chargenBinary, emulatorLatency } from './soak-settings.ts';
import { type TimedLine, spawnMeasured } from './spawn-measured.ts';
// ---------------------------------------------------------------------------------------------------------------
// The emulator: a child process, and its admin surface.

export interface RunningEmulator {
  baseUrl: string;
  stderrLines: TimedLine[];
  readStats(): Promise<EmulatorStats>;
  reset(): Promise<void>;
  listBatchJobs(): Promise<ListedJob[]>;
  /** Ctrl-C, as a user stops it: its exit code and peak RSS. */
  stop(): Promise<{ code: number | undefined; peakRssKilobytes: number }>;
}

export async function startEmulator(options: { directory: string; faultsPath: string }): Promise<RunningEmulator> {
  // Its files (uploads, result files: about 100 MB per 1,000 images) go under the bench's folder, removed at the end.
  const storage = join(options.directory, 'emulator-storage');
  await mkdir(storage, { recursive: true });
  const spawned = spawnMeasured({
    args: [
      chargenBinary, 'emulator', '--port', '0',
      '--pending-ms', String(emulatorLatency.pendingMilliseconds), '--running-ms', String(emulatorLatency.runningMilliseconds),
      '--faults', options.faultsPath,
    ],
    cwd: options.directory,
    env: { ...process.env, TMPDIR: storage },
    statsFile: join(options.directory, 'emulator.time'),
    streamStdout: true,
  });
  let baseUrl = '';
  if (spawned.stdoutStream) {
    for await (const line of createInterface({ input: spawned.stdoutStream })) {
      const match = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match?.[1]) {
        baseUrl = match[1];
        break;
      }
    }
    // Keep draining its stdout, or a full pipe would stall it.
    spawned.stdoutStream.resume();
  }
  if (!baseUrl) throw new Error(`chargen emulator exited without printing its URL:\n${spawned.stderrLines.map((line) => line.text).join('\n')}`);

  const admin = createEmulatorAdmin(baseUrl);
  return {
    baseUrl,
    stderrLines: spawned.stderrLines,
    readStats: () => admin.readStats(),
    reset: () => admin.reset(),
    listBatchJobs: () => admin.listBatchJobs(apiKey),
    async stop() {
      const pid = await spawned.resolvePid();
      if (pid !== undefined && !spawned.hasExited()) process.kill(pid, 'SIGINT');
      const { code, peakRssKilobytes } = await spawned.finished;
      return { code, peakRssKilobytes };
    },
  };
}
