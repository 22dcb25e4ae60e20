import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveEmulator, type RunningEmulator } from '../../emulator/serve-emulator.ts';
import { chargenBinary, runNodeProcess } from '../support/chargen-process.ts';
import { createEmulatorAdmin } from '../support/emulator-admin.ts';

/**
 * Keys ride in the requests' labels on Vertex AI, and come back in the echoed request. Should a service drop the
 * labels from the echo (unconfirmed either way), each line is matched by its echoed request's content instead: every
 * image is made, nothing is asked twice. The emulator drops them with `quirks.echoLabels: false`.
 */

const root = join(import.meta.dirname, '..', '..');
const vertex = { project: 'echo-project', location: 'global', bucket: 'chargen-echo' };

describe('a Vertex AI output without the key labels', () => {
  let emulator: RunningEmulator;
  let project: string;

  beforeAll(async () => {
    emulator = await serveEmulator({ emulator: { quirks: { echoLabels: false }, latency: { pendingMilliseconds: 50, runningMilliseconds: 100 } } });
    project = await mkdtemp(join(tmpdir(), 'chargen-vertex-echo-'));
    await cp(join(root, 'input_images'), join(project, 'input_images'), { recursive: true });
    // The backend named by the flag, as a user tries it first: the config holds only where it runs.
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ vertex }));
  });
  afterAll(async () => {
    await emulator?.close();
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('is matched line by line by the echoed request, and nothing is asked twice', async () => {
    const inputs = await readdir(join(project, 'input_images'));
    const env = { ...process.env, GEMINI_API_KEY: '', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl };
    const run = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--backend', 'vertex', '--yes'], env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/analyze: .*: \d+ lines came back without their key labels; matched by their echoed request/);
    expect(run.stderr).toMatch(/synthesize: .*: \d+ lines came back without their key labels; matched by their echoed request/);
    const outputs = await readdir(join(project, 'final_characters'));
    for (const input of inputs) expect(outputs).toContain(input.replace(/\.\w+$/, '.jpg'));
    const stats = await createEmulatorAdmin(emulator.baseUrl).readStats();
    expect(stats.requestsByModel['gemini-3-flash-preview']).toBe(inputs.length);
    expect(stats.requestsByModel['gemini-3-pro-image']).toBe(inputs.length);
    expect(stats.batchesCreated).toBe(2);
  });
});
