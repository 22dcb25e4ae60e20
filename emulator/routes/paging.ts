import { invalidArgument } from '../api-error.ts';
import { HttpRejection } from '../http-io.ts';

/** Opaque page tokens: the offset, encoded so that clients do not build them. */
function encodePageToken(offset: number): string {
  return Buffer.from(`offset:${offset}`, 'utf8').toString('base64url');
}

function decodePageToken(token: string): number {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  const match = /^offset:(\d+)$/.exec(decoded);
  if (!match?.[1]) throw new HttpRejection(invalidArgument('Invalid page token.'));
  return Number(match[1]);
}

export function pageOf<T>(options: { items: T[]; url: URL; defaultPageSize: number; maxPageSize: number }): { items: T[]; nextPageToken?: string } {
  const sizeParameter = options.url.searchParams.get('pageSize');
  const requested = sizeParameter === null ? options.defaultPageSize : Number(sizeParameter);
  if (!Number.isInteger(requested) || requested < 0) throw new HttpRejection(invalidArgument('pageSize must be a non-negative integer.'));
  const pageSize = Math.min(requested === 0 ? options.defaultPageSize : requested, options.maxPageSize);
  const token = options.url.searchParams.get('pageToken');
  const offset = token ? decodePageToken(token) : 0;
  const items = options.items.slice(offset, offset + pageSize);
  const next = offset + pageSize;
  return { items, ...(next < options.items.length ? { nextPageToken: encodePageToken(next) } : {}) };
}
