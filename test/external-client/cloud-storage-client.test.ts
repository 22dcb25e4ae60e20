import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';

const root = join(import.meta.dirname, '..', '..');

/**
 * cloud-storage-client.mjs uses only @google-cloud/storage, as anyone's code would, pointed at `chargen emulator`
 * by its apiEndpoint and nothing else: it must upload, list, read and delete from start to end (issue 18's
 * "Done when").
 */
describe('a Cloud Storage client written without chargen code', () => {
  let emulator: EmulatorProcess;

  beforeAll(async () => {
    emulator = await startEmulatorProcess({ pendingMilliseconds: 100, runningMilliseconds: 100 });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('uploads, lists, reads and deletes objects on the emulator', async () => {
    const { code, stdout, stderr } = await runNodeProcess({
      args: [join(root, 'test', 'external-client', 'cloud-storage-client.mjs')],
      env: { ...process.env, STORAGE_ENDPOINT: emulator.baseUrl, BUCKET: 'studio-renders' },
    });
    expect(code, `${stdout}${stderr}`).toBe(0);
    expect(stdout).toContain('all steps passed');
    expect(stdout).toContain('refused with 412');
    // The emulator said nothing on stderr beyond its own lines: a warning there would be a bug in it.
    expect(emulator.stderr.filter((line) => line.includes('Warning'))).toEqual([]);
  });
});
