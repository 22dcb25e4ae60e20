import { versionPattern, type Route } from '../emulator-context.ts';
import { sendJson } from '../http-io.ts';

/**
 * The front end's first answer to the SDK's download URL, as recorded of the real API (maruel/genai
 * `providers/gemini/testdata/TestClient/GenAsync-Video.yaml`, interaction 58): `302 Found`, an absolute `Location` on
 * the same host under `/download/` with the query kept (`?alt=media`), and a JSON error envelope with code 302 as
 * its body. Faults and the download count fall on the request the redirect leads to, so one download is one call.
 */
export const downloadRedirectRoute: Route = {
  method: 'GET',
  pattern: new RegExp(`^/${versionPattern}/files/(?<id>[^/:]+):download$`),
  requiresKey: true,
  handle: async (_context, input) => {
    input.request.resume();
    const query = new URLSearchParams(input.url.searchParams);
    // A key never travels in a Location (it would end up in logs); a client that sent ?key= sends it again itself.
    query.delete('key');
    const search = query.size > 0 ? `?${query.toString()}` : '';
    sendJson(
      input.response,
      302,
      { error: { code: 302, message: 'Unknown Error.', status: 'UNKNOWN' } },
      { location: `${input.origin}/download${input.url.pathname}${search}` },
    );
  },
};
