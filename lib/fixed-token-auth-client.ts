import type { GoogleGenAIOptions } from '@google/genai';

type AuthClient = NonNullable<NonNullable<GoogleGenAIOptions['googleAuthOptions']>['authClient']>;

/**
 * A google-auth-library client that hands out a fixed bearer token, for an endpoint with no accounts (a `chargen
 * emulator` at CHARGEN_BASE_URL, the tests): the SDK's Vertex path asks its GoogleAuth for request headers, and
 * GoogleAuth returns a given `authClient` as is, so no credentials are looked for and no token is requested.
 */
export function createFixedTokenAuthClient(token = 'chargen-emulator'): AuthClient {
  return { getRequestHeaders: async () => new Headers({ authorization: `Bearer ${token}` }) } as unknown as AuthClient;
}
