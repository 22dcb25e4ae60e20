import type { z } from 'zod';

/** Every problem zod found, each with the path of its field: `limits.maxFileBytes: Too small …; seed: …`. */
export function formatZodIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('; ');
}
