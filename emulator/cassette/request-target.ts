import { redactedText } from './cassette-schema.ts';

const placeholderOrigin = 'http://cassette.invalid';

/**
 * What a request is matched on besides method and body: the path, and the query with its parameters sorted and
 * any API key left out (a replaying client may send any key, or none).
 */
export function normalizeRequestTarget(rawUrl: string): string {
  const url = new URL(rawUrl, placeholderOrigin);
  const parameters = [...url.searchParams].filter(([name]) => name !== 'key');
  parameters.sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  const query = new URLSearchParams(parameters).toString();
  return query === '' ? url.pathname : `${url.pathname}?${query}`;
}

/** Path and query with the `key` parameter removed, for forwarding (the proxy sends its own key). */
export function removeKeyParameter(rawUrl: string): string {
  const url = new URL(rawUrl, placeholderOrigin);
  if (url.searchParams.has('key')) url.searchParams.delete('key');
  return `${url.pathname}${url.search}`;
}

/** Path and query with the value of any `key` parameter replaced, for the cassette. */
export function redactKeyParameter(rawUrl: string): string {
  const url = new URL(rawUrl, placeholderOrigin);
  if (!url.searchParams.has('key')) return `${url.pathname}${url.search}`;
  url.searchParams.set('key', redactedText);
  return `${url.pathname}${url.search}`;
}

/**
 * A URL handed out by the upstream (an upload URL, a redirect's Location), moved to another origin (the proxy's, or
 * the placeholder in the cassette) with its path and query kept, minus any key.
 */
export function rewriteHandedOutUrl(options: { url: string; origin: string }): string {
  const url = new URL(options.url);
  return `${options.origin}${removeKeyParameter(`${url.pathname}${url.search}`)}`;
}
