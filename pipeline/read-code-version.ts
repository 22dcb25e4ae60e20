import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../lib/package-root.ts';


/** chargen's version, from package.json: part of every fingerprint, and what `chargen --version` prints. */
export async function readCodeVersion(): Promise<string> {
  const text = await readFile(join(packageRoot, 'package.json'), 'utf8');
  const match = /"version"\s*:\s*"([^"]+)"/.exec(text);
  return match?.[1] ?? 'unknown';
}
