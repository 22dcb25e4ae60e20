import { z } from 'zod';
import { exitCodeFor } from '../../lib/errors.ts';

export const doctorCheckSchema = z
  .object({
    /** The item: `config`, `key` (`credentials` and `bucket` on Vertex AI), `analyze.model`, `compile.model`, `upload`, `batches.list`, `probe`. */
    name: z.string().min(1),
    status: z.enum(['ok', 'warning', 'failed']),
    detail: z.string(),
    /** How to mend it, when there is something to mend. */
    fix: z.string().optional(),
  })
  .strict();
export type DoctorCheck = z.infer<typeof doctorCheckSchema>;

/** What `chargen doctor --json` prints: exit 0 when no item failed, 2 when one did. */
export const doctorReportSchema = z
  .object({
    exitCode: z.number().int(),
    /**
     * `gemini` (Google's API), `emulator` (the built-in one), the CHARGEN_BASE_URL the checks went to, the Vertex AI
     * target (`Vertex AI (project p, location l, gs://bucket/prefix)`, `at <url>` with CHARGEN_BASE_URL), or `unknown`.
     */
    backend: z.string(),
    checks: z.array(doctorCheckSchema),
  })
  .strict();
export type DoctorReport = z.infer<typeof doctorReportSchema>;

const resultLabels: Record<DoctorCheck['status'], string> = { ok: 'ok', warning: 'warn', failed: 'FAIL' };

/**
 * Pure: `text` in lines of at most `width` characters, broken at spaces; a longer word is cut, or with `keepWords`
 * kept whole on a line of its own (for the last column, where it pushes nothing out of line, and a URL stays whole).
 */
export function wrapText(text: string, width: number, options: { keepWords?: boolean } = {}): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((part) => part !== '')) {
    for (let rest = word; rest !== ''; ) {
      const room = line === '' ? width : width - line.length - 1;
      if (rest.length <= room || (options.keepWords && line === '')) {
        line = line === '' ? rest : `${line} ${rest}`;
        rest = '';
      } else if (line !== '') {
        lines.push(line);
        line = '';
      } else {
        lines.push(rest.slice(0, width));
        rest = rest.slice(width);
      }
    }
  }
  if (line !== '') lines.push(line);
  return lines.length > 0 ? lines : [''];
}

/**
 * Pure: the checks as a table for a terminal (item, result, detail, how to mend), the two text columns wrapped so
 * that a row fits in `width` characters.
 */
export function formatDoctorTable(options: { checks: readonly DoctorCheck[]; width: number }): string[] {
  const gap = '  ';
  const itemWidth = Math.max('item'.length, ...options.checks.map((check) => check.name.length));
  const resultWidth = 'result'.length;
  const room = Math.max(40, options.width - itemWidth - resultWidth - gap.length * 3);
  const detailWidth = Math.ceil(room * 0.6);
  const fixWidth = room - detailWidth;
  const row = (cells: string[][]) => {
    const height = Math.max(...cells.map((cell) => cell.length));
    const widths = [itemWidth, resultWidth, detailWidth, fixWidth];
    return Array.from({ length: height }, (_unused, index) =>
      cells.map((cell, column) => (cell[index] ?? '').padEnd(column === cells.length - 1 ? 0 : widths[column] ?? 0)).join(gap).trimEnd(),
    );
  };
  const lines = row([['item'], ['result'], ['detail'], ['how to mend']]);
  for (const check of options.checks) {
    lines.push(...row([[check.name], [resultLabels[check.status]], wrapText(check.detail, detailWidth), check.fix ? wrapText(check.fix, fixWidth, { keepWords: true }) : ['']]));
  }
  return lines;
}

/** Pure: 2 when an item failed, else 0. */
export function computeDoctorExitCode(checks: readonly DoctorCheck[]): number {
  return exitCodeFor({ status: checks.some((check) => check.status === 'failed') ? 'checks-failed' : 'done' });
}
