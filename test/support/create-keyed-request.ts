/** Raw HTTP against a Gemini endpoint with a key, JSON by default: for what the SDK hides (batchStats, error bodies). */
export function createKeyedRequest(options: { baseUrl: string; apiKey: string }) {
  return (path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> => {
    const { json, ...rest } = init;
    return fetch(`${options.baseUrl}${path}`, {
      ...rest,
      headers: { 'x-goog-api-key': options.apiKey, 'content-type': 'application/json', ...(rest.headers as Record<string, string> | undefined) },
      ...(json !== undefined ? { body: JSON.stringify(json), method: rest.method ?? 'POST' } : {}),
    });
  };
}
