import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { formatZodIssues } from '../../schemas/format-zod-issues.ts';
import { WorkspaceFileError } from '../errors.ts';

/**
 * The append-only JSONL logs a workspace kept before its database (`results/<stage>.jsonl`, `uploads.jsonl`), read
 * once to move them into it. Each line was written whole and synced, so a crash could only tear the last line, which
 * reading skips. The first line names the kind and schema version; every other line is validated with the record
 * schema.
 */

const headerSchema = z.object({ kind: z.string(), version: z.number().int() }).strict();

export async function readAppendLog<T>(options: {
  path: string;
  kind: string;
  version: number;
  schema: z.ZodType<T>;
  onSkippedLine?: (lineNumber: number, reason: string) => void;
}): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(options.path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new WorkspaceFileError({ path: options.path, problem: 'cannot be read', fix: 'Check its permissions.', cause: error });
  }
  // Empty: created and cut off before its header was written; it holds nothing.
  if (text === '') return [];
  const lines = text.split('\n');
  const endsWhole = text.endsWith('\n');
  const header = headerSchema.safeParse(safeParseJson(lines[0] ?? ''));
  if (!header.success || header.data.kind !== options.kind || header.data.version !== options.version) {
    throw new WorkspaceFileError({
      path: options.path,
      problem: `is not a ${options.kind} log of version ${options.version}`,
      fix: 'Delete it to start afresh (work already paid for elsewhere in the workspace is kept), or use the chargen version that wrote it.',
    });
  }
  const records: T[] = [];
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (line.trim() === '') continue;
    const isLast = index === lines.length - 1 && !endsWhole;
    const parsed = options.schema.safeParse(safeParseJson(line));
    if (parsed.success) {
      records.push(parsed.data);
    } else if (isLast) {
      options.onSkippedLine?.(index + 1, 'the last line was cut short (an interrupted write); it is ignored');
    } else {
      throw new WorkspaceFileError({
        path: options.path,
        problem: `line ${index + 1} does not match its schema (${formatZodIssues(parsed.error.issues)})`,
        fix: 'Delete the file to start afresh; chargen never writes such a line itself.',
      });
    }
  }
  return records;
}

function safeParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
