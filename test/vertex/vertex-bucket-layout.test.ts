import { describe, expect, it } from 'vitest';
import { parseGcsUri, toGcsUri, toReferenceObjectName, toRequestObjectName, toResultPrefix, type VertexTarget } from '../../lib/vertex/vertex-bucket-layout.ts';

const target: VertexTarget = { project: 'studio', location: 'global', bucket: 'studio-art', prefix: 'chargen' };
const sha256 = 'ab'.repeat(32);
const workspaceId = 'w0rkspace';

describe('the Vertex bucket layout', () => {
  it('names references, requests and results under <prefix>/<workspace id>/', () => {
    expect(toReferenceObjectName({ target, workspaceId, sha256 })).toBe(`chargen/w0rkspace/references/${sha256}`);
    expect(toRequestObjectName({ target, workspaceId, stage: 'synthesize', displayName: 'chargen-synthesize-3' })).toBe('chargen/w0rkspace/requests/synthesize/chargen-synthesize-3.jsonl');
    expect(toResultPrefix({ target, workspaceId, stage: 'synthesize', displayName: 'chargen-synthesize-3' })).toBe('chargen/w0rkspace/results/synthesize/chargen-synthesize-3/');
  });

  it('takes a prefix with slashes around it, or none, without doubling or leading slashes', () => {
    expect(toReferenceObjectName({ target: { ...target, prefix: '/teams/art/' }, workspaceId, sha256 })).toBe(`teams/art/w0rkspace/references/${sha256}`);
    expect(toResultPrefix({ target: { ...target, prefix: '' }, workspaceId, stage: 'analyze', displayName: 'a' })).toBe('w0rkspace/results/analyze/a/');
  });

  it('refuses a segment that would add a folder, and a sha256 that is not 64 lowercase hex digits', () => {
    expect(() => toRequestObjectName({ target, workspaceId, stage: 'analyze', displayName: 'a/b' })).toThrow(/display name must be one non-empty segment/);
    expect(() => toResultPrefix({ target, workspaceId: '..', stage: 'analyze', displayName: 'a' })).toThrow(/workspace id/);
    expect(() => toResultPrefix({ target, workspaceId, stage: '', displayName: 'a' })).toThrow(/stage/);
    expect(() => toReferenceObjectName({ target, workspaceId, sha256: sha256.toUpperCase() })).toThrow(/64 lowercase hex digits/);
  });

  it('writes and reads gs:// URIs, folders and bare buckets included', () => {
    const objectName = toReferenceObjectName({ target, workspaceId, sha256 });
    expect(toGcsUri('studio-art', objectName)).toBe(`gs://studio-art/${objectName}`);
    expect(parseGcsUri(toGcsUri('studio-art', objectName))).toEqual({ bucket: 'studio-art', objectName });
    expect(parseGcsUri('gs://studio-art/out/prediction-model-2026-11-21T12:00:00.000000Z')).toEqual({ bucket: 'studio-art', objectName: 'out/prediction-model-2026-11-21T12:00:00.000000Z' });
    expect(parseGcsUri('gs://studio-art/results/')).toEqual({ bucket: 'studio-art', objectName: 'results/' });
    expect(parseGcsUri('gs://studio-art')).toEqual({ bucket: 'studio-art', objectName: '' });
  });

  it('says clearly when a URI is not a Cloud Storage one', () => {
    for (const uri of ['https://storage.googleapis.com/studio-art/x', 'files/abc123', 'gs://', 'gs://Upper/x', 'bq://project.dataset.table']) {
      expect(() => parseGcsUri(uri), uri).toThrow(`Not a Cloud Storage URI (gs://<bucket>/<object>): ${JSON.stringify(uri)}.`);
    }
  });
});
