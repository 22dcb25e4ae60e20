import { GoogleGenAI, type GoogleGenAIOptions } from '@google/genai';

type AuthClient = NonNullable<NonNullable<GoogleGenAIOptions['googleAuthOptions']>['authClient']>;

/**
 * A google-auth-library client that hands out a fixed token: the SDK's Vertex path asks its GoogleAuth for request
 * headers, and GoogleAuth returns a given `authClient` as is, so no credentials are looked for and none are sent.
 */
const testAuthClient = { getRequestHeaders: async () => new Headers({ authorization: 'Bearer emulator-test-token' }) } as unknown as AuthClient;

/** The real SDK in Vertex AI mode (v1beta1, projects/test-project/locations/us-central1), pointed at the emulator. */
export function createVertexClient(baseUrl: string): GoogleGenAI {
  return new GoogleGenAI({
    vertexai: true,
    project: 'test-project',
    location: 'us-central1',
    googleAuthOptions: { authClient: testAuthClient },
    httpOptions: { baseUrl },
  });
}
