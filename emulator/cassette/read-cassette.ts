import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatZodIssues } from '../../schemas/format-zod-issues.ts';
import { CassetteError } from './cassette-error.ts';
import { bodiesDirectoryName, cassetteFileName, cassetteSchema, type Cassette, type RecordedBody } from './cassette-schema.ts';

/**
 * Reads `cassette.json` and checks it in full before anything is answered from it: the schema, and that every body
 * stored beside it is there with the recorded size. Any problem is a CassetteError naming the file and the field.
 */
export async function readCassette(options: { cassetteDirectory: string }): Promise<Cassette> {
  const path = join(options.cassetteDirectory, cassetteFileName);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CassetteError({ path, problem: missing ? 'does not exist' : 'cannot be read', cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CassetteError({ path, problem: `is not valid JSON (${error instanceof Error ? error.message : String(error)})`, cause: error });
  }
  const result = cassetteSchema.safeParse(parsed);
  if (!result.success) {
    throw new CassetteError({ path, problem: `does not match the cassette schema (${formatZodIssues(result.error.issues)})` });
  }
  const cassette = result.data;
  for (const [index, interaction] of cassette.interactions.entries()) {
    await checkBodyFile({ cassetteDirectory: options.cassetteDirectory, path, field: `interactions.${index}.request.body`, body: interaction.request.body });
    await checkBodyFile({ cassetteDirectory: options.cassetteDirectory, path, field: `interactions.${index}.response.body`, body: interaction.response.body });
  }
  return cassette;
}

async function checkBodyFile(options: { cassetteDirectory: string; path: string; field: string; body: RecordedBody }): Promise<void> {
  if (options.body.encoding !== 'file') return;
  const bodyPath = join(options.cassetteDirectory, bodiesDirectoryName, options.body.sha256);
  let size: number;
  try {
    size = (await stat(bodyPath)).size;
  } catch (error) {
    throw new CassetteError({ path: options.path, problem: `${options.field} refers to ${bodyPath}, which is missing`, cause: error });
  }
  if (size !== options.body.bytes) {
    throw new CassetteError({
      path: options.path,
      problem: `${options.field} says ${options.body.bytes} bytes, but ${bodyPath} has ${size}`,
    });
  }
}
