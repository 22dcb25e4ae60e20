import type { Route } from '../emulator-context.ts';
import { toBucketResource } from '../storage/bucket-resource.ts';
import { sendStorageJson } from '../storage/storage-error.ts';
import { storageRoute } from '../storage/storage-route.ts';

/** `buckets.get` (`GET /storage/v1/b/{bucket}`): the bucket's resource, or 404 for one that does not exist (storageRoute). */
export const storageBucketRoutes: Route[] = [
  storageRoute({
    method: 'GET',
    pattern: /^\/storage\/v1\/b\/(?<bucket>[^/]+)$/,
    endpoint: 'storage.buckets.get',
    handle: async (_context, input) => sendStorageJson(input.response, 200, toBucketResource(input.bucket)),
  }),
];
