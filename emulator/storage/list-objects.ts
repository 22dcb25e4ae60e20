import type { StoredObject } from './object-store.ts';
import { invalidRequest } from './storage-error.ts';

export interface ObjectPage {
  items: StoredObject[];
  prefixes: string[];
  nextPageToken?: string;
}

/** Where a page ended: after this name, or after every name under this prefix. Opaque to the client. */
interface PagePosition {
  after: string;
  afterPrefix: boolean;
}

function encodeToken(position: PagePosition): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

function decodeToken(token: string): PagePosition {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<PagePosition>;
    if (typeof parsed.after === 'string' && typeof parsed.afterPrefix === 'boolean') return { after: parsed.after, afterPrefix: parsed.afterPrefix };
  } catch {
    // answered below
  }
  throw invalidRequest('Invalid page token.');
}

function isPast(name: string, position: PagePosition | undefined): boolean {
  if (!position) return true;
  if (position.afterPrefix && name.startsWith(position.after)) return false;
  return name > position.after;
}

/**
 * objects.list over objects already filtered by prefix and in name order: with a delimiter, a name with the
 * delimiter after the prefix is rolled up into `prefixes` (each once). `maxResults` counts items and prefixes
 * together, at most 1,000 (the objects.list reference).
 */
export function listObjectPage(options: { objects: StoredObject[]; prefix: string; delimiter: string; maxResults: number; pageToken: string | undefined }): ObjectPage {
  const { prefix, delimiter } = options;
  const position = options.pageToken ? decodeToken(options.pageToken) : undefined;
  const page: ObjectPage = { items: [], prefixes: [] };
  let last: PagePosition | undefined;
  for (const object of options.objects) {
    if (!isPast(object.name, position) || (last && !isPast(object.name, last))) continue;
    if (page.items.length + page.prefixes.length >= options.maxResults) {
      if (last) page.nextPageToken = encodeToken(last);
      break;
    }
    const cut = delimiter ? object.name.indexOf(delimiter, prefix.length) : -1;
    if (cut >= 0) {
      const rolledUp = object.name.slice(0, cut + delimiter.length);
      page.prefixes.push(rolledUp);
      last = { after: rolledUp, afterPrefix: true };
    } else {
      page.items.push(object);
      last = { after: object.name, afterPrefix: false };
    }
  }
  return page;
}

export function readMaxResults(text: string | null): number {
  if (text === null || text === '') return 1000;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw invalidRequest(`Invalid value for maxResults: ${text}`);
  return value === 0 ? 1000 : Math.min(value, 1000);
}
