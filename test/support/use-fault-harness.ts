import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { FaultConfigInput } from '../../emulator/fault-config.ts';
import { startEmulatorProcess } from './chargen-process.ts';
import { createEmulatorAdmin, type EmulatorAdmin } from './emulator-admin.ts';
import type { FaultHarness } from './fault-scenario.ts';

const emulatorLatency = { pendingMilliseconds: 100, runningMilliseconds: 200 };

/**
 * A fault suite's `chargen emulator --faults <file>` child process, started once for the suite with the backend's
 * part of the harness, and stopped after it (it must exit 0), its projects removed but those kept to look at. Read
 * the harness's members inside tests and hooks: they are set in beforeAll.
 */
export function useFaultHarness(options: {
  faults: FaultConfigInput;
  backend: (admin: EmulatorAdmin) => Pick<FaultHarness, 'config' | 'env' | 'listJobs'> & { secret?: string };
}): FaultHarness {
  const harness = { projects: [] as string[] } as FaultHarness;
  let faultsDirectory: string | undefined;
  beforeAll(async () => {
    faultsDirectory = await mkdtemp(join(tmpdir(), 'chargen-faults-config-'));
    const faultsPath = join(faultsDirectory, 'faults.json');
    await writeFile(faultsPath, JSON.stringify(options.faults, null, 2));
    const emulator = await startEmulatorProcess({ faultsPath, ...emulatorLatency });
    const admin = createEmulatorAdmin(emulator.baseUrl);
    Object.assign(harness, { emulator, admin, ...options.backend(admin) });
  });
  afterAll(async () => {
    const code = await harness.emulator?.stop();
    for (const directory of [...harness.projects, ...(faultsDirectory ? [faultsDirectory] : [])]) await rm(directory, { recursive: true, force: true });
    expect(code).toBe(0);
  });
  return harness;
}
