import type { StageContext } from './stage-context.ts';

export const stageNames = ['analyze', 'compile', 'synthesize'] as const;
export type StageName = (typeof stageNames)[number];

/** What `--json` reports of each stage. */
export interface StageSummary {
  status: 'done' | 'done-with-failures' | 'skipped' | 'pending' | 'interrupted' | 'not-run' | 'planned';
  total: number;
  succeeded: number;
  failed: number;
  cached: number;
  requestsSent: number;
}

export interface DeadLetter {
  stage: StageName;
  source: string;
  reason: string;
}

export interface StepResult {
  summary: StageSummary;
  deadLetter: DeadLetter[];
}

/** One stage as the runner sees it: whether its checkpoint is current, and how to bring it up to date. */
export interface StageStep {
  name: StageName;
  /** Whether the stage's checkpoint matches what it would consume now (an upstream `--only` needs this). */
  isFresh(context: StageContext): Promise<{ fresh: boolean; reason: string }>;
  /** Brings the checkpoint up to date; `force` runs it even when fresh (`--from`). */
  run(context: StageContext, options: { force: boolean }): Promise<StepResult>;
}

export function emptySummary(status: StageSummary['status']): StageSummary {
  return { status, total: 0, succeeded: 0, failed: 0, cached: 0, requestsSent: 0 };
}
