/**
 * A bucket resource (`storage#bucket`) of the JSON API, in the fields and order of Google's own parsing test
 * (google-cloud-cpp bucket_metadata_test.cc) and a Cloud Asset Inventory dump of a real bucket: the emulator's buckets
 * exist from its start, all in one region, without versioning; the project number and the creation time are fixed
 * (the emulator has no projects). A bucket's etag encodes its metageneration: `CAE=` for 1 (`CAI=` for
 * 2 in the same dump).
 */
export function toBucketResource(name: string): Record<string, unknown> {
  return {
    kind: 'storage#bucket',
    selfLink: `https://www.googleapis.com/storage/v1/b/${name}`,
    id: name,
    name,
    projectNumber: '123456789012',
    metageneration: '1',
    location: 'US-CENTRAL1',
    storageClass: 'STANDARD',
    etag: 'CAE=',
    timeCreated: '2026-01-01T00:00:00.000Z',
    updated: '2026-01-01T00:00:00.000Z',
    iamConfiguration: { bucketPolicyOnly: { enabled: false }, uniformBucketLevelAccess: { enabled: false } },
    locationType: 'region',
  };
}
