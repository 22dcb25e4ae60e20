/**
 * A fetch for the SDK that carries a `Retry-After` header into the error body as a RetryInfo, because the SDK's
 * ApiError keeps the body and drops the headers; callWithRetry then honours either the same way.
 */
export function createRetryAfterFetch(base: typeof globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await base(input, init);
    const retryAfter = response.headers.get('retry-after');
    if ((response.status !== 429 && response.status !== 503) || retryAfter === null) return response;
    const seconds = /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : Math.max(0, (Date.parse(retryAfter) - Date.now()) / 1000);
    if (!Number.isFinite(seconds)) return response;
    const text = await response.text();
    // The text is decoded now: the new answer must not claim the front end's gzip or its encoded length.
    const headers = new Headers(response.headers);
    headers.delete('content-encoding');
    headers.delete('content-length');
    if (text.includes('"retryDelay"')) return new Response(text, { status: response.status, statusText: response.statusText, headers });
    let body: { error?: { details?: unknown[] } } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = { error: { details: [] } };
    }
    const error = body.error ?? {};
    error.details = [...(Array.isArray(error.details) ? error.details : []), { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${Math.ceil(seconds)}s` }];
    headers.set('content-type', 'application/json');
    return new Response(JSON.stringify({ ...body, error }), { status: response.status, statusText: response.statusText, headers });
  };
}
