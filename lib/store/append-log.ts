import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { formatZodIssues } from '../../schemas/format-zod-issues.ts';
import { WorkspaceFileError } from '../errors.ts';

/**
 * An append-only JSONL log for records that grow one by one (uploads, results): each line is written whole and
 * synced, so a crash can only tear the last line, which reading skips. The first line names the kind and schema
 * version; every other line is validated with the record schema when read back.
 */
export interface AppendLog<T> {
  append(record: T): Promise<void>;
  close(): Promise<void>;
}

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
  // Empty: created by openAppendLog and cut off before its header was written; it holds nothing yet.
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

export async function openAppendLog<T>(options: { path: string; kind: string; version: number }): Promise<AppendLog<T>> {
  await mkdir(dirname(options.path), { recursive: true });
  const handle = await open(options.path, 'a+');
  const { size } = await handle.stat();
  if (size === 0) {
    await handle.write(`${JSON.stringify({ kind: options.kind, version: options.version })}\n`);
    await handle.sync();
  } else {
    // A torn last line must not glue itself to the next record.
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    if (last[0] !== 0x0a) await handle.write('\n');
  }
  let queue: Promise<void> = Promise.resolve();
  return {
    append(record) {
      const line = `${JSON.stringify(record)}\n`;
      queue = queue.then(async () => {
        await handle.write(line);
        await handle.datasync();
      });
      return queue;
    },
    async close() {
      await queue;
      await handle.close();
    },
  };
}
