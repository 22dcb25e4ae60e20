import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Where Application Default Credentials come from in a shell, as people name it; the path when there is one. */
export interface CredentialsSource {
  description: string;
  path?: string;
}

const serverlessVariables = ['K_SERVICE', 'CLOUD_RUN_JOB', 'FUNCTION_NAME'];

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((info) => info.isFile(), () => false);
}

/**
 * Where google-auth-library would find Application Default Credentials, in its order, known without a network call:
 * GOOGLE_APPLICATION_CREDENTIALS, then gcloud's file (`gcloud auth application-default login`, under CLOUDSDK_CONFIG
 * or the platform's gcloud folder), then the metadata server of a Google Cloud machine (by the same local signs the
 * library's gcp-metadata looks at: Cloud Run and Functions variables, a metadata host set, a Google BIOS). Undefined
 * when there is none: no call could be authorized. Whether a token is given is for `chargen doctor` to find out.
 */
export async function findApplicationDefaultCredentials(options: { env: NodeJS.ProcessEnv; platform?: NodeJS.Platform }): Promise<CredentialsSource | undefined> {
  const { env } = options;
  const platform = options.platform ?? process.platform;
  const keyFile = env['GOOGLE_APPLICATION_CREDENTIALS'];
  if (keyFile) return { description: 'the key file GOOGLE_APPLICATION_CREDENTIALS names', path: keyFile };
  const home = platform === 'win32' ? env['APPDATA'] : env['HOME'];
  const folder = env['CLOUDSDK_CONFIG'] || (home ? (platform === 'win32' ? join(home, 'gcloud') : join(home, '.config', 'gcloud')) : undefined);
  const wellKnown = folder ? join(folder, 'application_default_credentials.json') : undefined;
  if (wellKnown && (await isFile(wellKnown))) return { description: 'gcloud application-default credentials', path: wellKnown };
  const onGoogleCloud =
    serverlessVariables.some((name) => env[name]) ||
    Boolean(env['GCE_METADATA_HOST'] || env['GCE_METADATA_IP']) ||
    (platform === 'linux' && /Google/.test(await readFile('/sys/class/dmi/id/bios_vendor', 'utf8').catch(() => '')));
  return onGoogleCloud ? { description: "this Google Cloud machine's service account (the metadata server)" } : undefined;
}
