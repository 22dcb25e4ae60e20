import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UploadCandidate, UploadOutcome } from '../../lib/gemini/upload-files.ts';
import { neverExpires, openUploadRegistry, uploadRecordSchema, type UploadRegistry } from '../../lib/gemini/upload-registry.ts';
import { deleteReferenceObjects, uploadReferences } from '../../lib/vertex/upload-references.ts';
import type { VertexTarget } from '../../lib/vertex/vertex-bucket-layout.ts';
import type { EmulatorAdmin } from '../support/emulator-admin.ts';
import { createSamplePng } from '../support/sample-images.ts';
import { createCountingRetry, useStorageEmulator } from '../support/use-storage-emulator.ts';

const target: VertexTarget = { project: 'test-project', location: 'global', bucket: 'chargen-vertex', prefix: 'chargen' };
const workspaceId = 'workspace-1';
const hour = 3600 * 1000;

const suite = useStorageEmulator();
let admin: EmulatorAdmin;
let storage: Storage;
let directory: string;
let registry: UploadRegistry;
beforeAll(() => ({ admin, storage } = suite));
// A registry of its own for each test (the suite's emulator is reset before each too).
beforeEach(async () => {
  directory = await mkdtemp(join(suite.directory, 'state-'));
  registry = await openUploadRegistry({ stateDirectory: directory, requiredLifetimeMilliseconds: 26 * hour });
});
afterEach(async () => registry.close());

async function writeImages(names: string[]): Promise<UploadCandidate[]> {
  return Promise.all(
    names.map(async (name) => {
      const bytes = createSamplePng(name.replace(/-copy$/, ''));
      const path = join(directory, `${name}.png`);
      await writeFile(path, bytes);
      return { path, sha256: createHash('sha256').update(bytes).digest('hex'), mimeType: 'image/png', sizeBytes: bytes.length };
    }),
  );
}

function upload(candidates: readonly UploadCandidate[], extra: { refresh?: ReadonlySet<string>; signal?: AbortSignal; target?: VertexTarget } = {}) {
  return uploadReferences({ storage, target, workspaceId, registry, candidates, concurrency: 4, now: Date.now, retry: createCountingRetry({ admin, clearFaults: true }), ...extra });
}

function referenceName(sha256: string): string {
  return `chargen/workspace-1/references/${sha256}`;
}

async function listReferences(): Promise<string[]> {
  const [files] = await storage.bucket(target.bucket).getFiles({ prefix: 'chargen/workspace-1/references/' });
  return files.map((file) => file.name);
}

function uploadedOf(outcome: UploadOutcome | undefined) {
  if (outcome?.status !== 'uploaded') throw new Error(`not uploaded: ${JSON.stringify(outcome)}`);
  return outcome;
}

describe('uploadReferences (the uploadFiles contract, on Cloud Storage)', () => {
  it('puts each distinct image once at references/<sha256> and records it under its gs:// URI, never expiring', async () => {
    const candidates = await writeImages(['elf', 'orc', 'elf-copy']);
    const outcomes = await upload(candidates);
    expect(outcomes.size).toBe(2);
    const [elf, orc] = candidates;
    const record = uploadedOf(outcomes.get(elf?.sha256 ?? '')).file;
    expect(record).toEqual({
      sha256: elf?.sha256,
      name: `gs://chargen-vertex/${referenceName(elf?.sha256 ?? '')}`,
      uri: `gs://chargen-vertex/${referenceName(elf?.sha256 ?? '')}`,
      mimeType: 'image/png',
      sizeBytes: elf?.sizeBytes,
      expirationTime: neverExpires,
    });
    expect(uploadRecordSchema.parse(record)).toEqual(record);
    expect(uploadedOf(outcomes.get(orc?.sha256 ?? '')).reused).toBe(false);
    expect(await listReferences()).toEqual([referenceName(elf?.sha256 ?? ''), referenceName(orc?.sha256 ?? '')].sort());
    // Recorded as soon as each was up: findUsable serves them, and listHeld counts them, years from now.
    expect(registry.findUsable({ sha256: elf?.sha256 ?? '', now: Date.now() + 365 * 24 * hour })).toEqual(record);
    expect(registry.listHeld(Date.now() + 365 * 24 * hour).map((held) => held.sha256).sort()).toEqual([elf?.sha256, orc?.sha256].sort());
  });

  it('reuses what the registry holds without asking the bucket, and refresh asks the bucket again', async () => {
    const candidates = await writeImages(['ranger', 'mage']);
    await upload(candidates);
    const [ranger, mage] = candidates;
    // Gone behind chargen's back: a reuse asks nothing, so it does not notice.
    await storage.bucket(target.bucket).file(referenceName(ranger?.sha256 ?? '')).delete();
    const reused = await upload(candidates);
    expect([...reused.values()].map((outcome) => uploadedOf(outcome).reused)).toEqual([true, true]);
    expect(await listReferences()).toEqual([referenceName(mage?.sha256 ?? '')]);
    expect((await admin.readStats()).objectsWritten).toBe(2);
    // A job said the file is missing: refresh uploads it anew, and a refreshed one still there is the 412, kept.
    const refreshed = await upload(candidates, { refresh: new Set([ranger?.sha256 ?? '', mage?.sha256 ?? '']) });
    expect([...refreshed.values()].map((outcome) => uploadedOf(outcome).reused)).toEqual([false, false]);
    expect(await listReferences()).toEqual([referenceName(ranger?.sha256 ?? ''), referenceName(mage?.sha256 ?? '')].sort());
    expect((await admin.readStats()).objectsWritten).toBe(3);
  });

  it('does not reuse a record of another bucket or prefix (the config changed): it uploads to the new place', async () => {
    const candidates = await writeImages(['bard']);
    await upload(candidates);
    const moved = { ...target, prefix: 'studio' };
    const outcome = uploadedOf((await upload(candidates, { target: moved })).get(candidates[0]?.sha256 ?? ''));
    expect(outcome.reused).toBe(false);
    expect(outcome.file.uri).toBe(`gs://chargen-vertex/studio/workspace-1/references/${candidates[0]?.sha256 ?? ''}`);
  });

  it('retries a 503 and reports, per image, what failed for good, without failing the others', async () => {
    const candidates = await writeImages(['knight']);
    await admin.replaceFaults({ endpoints: { 'storage.objects.insert': { rate503: 1 } } });
    expect(uploadedOf((await upload(candidates)).get(candidates[0]?.sha256 ?? '')).reused).toBe(false);
    const missing: UploadCandidate = { path: join(directory, 'missing.png'), sha256: 'f'.repeat(64), mimeType: 'image/png', sizeBytes: 10 };
    const outcomes = await upload([...candidates, missing]);
    expect(outcomes.get(missing.sha256)).toMatchObject({ status: 'failed', error: { isRetryable: false } });
    expect(outcomes.get(candidates[0]?.sha256 ?? '')?.status).toBe('uploaded');
  });

  it('uploads nothing once the signal is aborted, and records nothing', async () => {
    const candidates = await writeImages(['thief', 'cleric']);
    const controller = new AbortController();
    controller.abort();
    const outcomes = await upload(candidates, { signal: controller.signal });
    expect([...outcomes.values()].map((outcome) => outcome.status)).toEqual(['failed', 'failed']);
    expect(await listReferences()).toEqual([]);
    expect(registry.listUndeleted()).toEqual([]);
  });
});

describe('deleteReferenceObjects', () => {
  it('deletes the objects of the given bytes, counts one already gone, and records each deletion', async () => {
    const candidates = await writeImages(['druid', 'monk', 'paladin']);
    await upload(candidates);
    const [druid, monk, paladin] = candidates;
    await storage.bucket(target.bucket).file(referenceName(monk?.sha256 ?? '')).delete();
    await admin.replaceFaults({ endpoints: { 'storage.objects.delete': { rate503: 1 } } });
    const report = await deleteReferenceObjects({ storage, registry, sha256s: [druid?.sha256 ?? '', monk?.sha256 ?? ''], concurrency: 2, now: Date.now, retry: createCountingRetry({ admin, clearFaults: true }) });
    expect(report).toEqual({ deletedBytes: (druid?.sizeBytes ?? 0) + (monk?.sizeBytes ?? 0), deleted: 1, gone: 1, failed: [] });
    expect(await listReferences()).toEqual([referenceName(paladin?.sha256 ?? '')]);
    expect(registry.listUndeleted().map((record) => record.sha256)).toEqual([paladin?.sha256]);
    expect(registry.findUsable({ sha256: druid?.sha256 ?? '', now: Date.now() })).toBeUndefined();
  });

  it('reports, without throwing, an object the service will not delete', async () => {
    const candidates = await writeImages(['warlock']);
    await upload(candidates);
    await admin.replaceFaults({ endpoints: { 'storage.objects.delete': { rate503: 1 } } });
    const report = await deleteReferenceObjects({ storage, registry, sha256s: [candidates[0]?.sha256 ?? ''], concurrency: 1, now: Date.now, retry: createCountingRetry() });
    expect(report).toMatchObject({ deleted: 0, gone: 0, deletedBytes: 0, failed: [{ name: `gs://chargen-vertex/${referenceName(candidates[0]?.sha256 ?? '')}`, reason: expect.stringContaining('We encountered an internal error') as unknown }] });
    expect(registry.listUndeleted()).toHaveLength(1);
  });
});
