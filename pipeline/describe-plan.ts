import type { RunPlan, StagePlan } from './estimate-run.ts';
import { formatCount, formatUsd } from '../lib/format-count.ts';

function describeStagePlan(name: string, stage: StagePlan): string {
  const items = `${formatCount(stage.items, 'item')}${stage.estimated ? ' (estimated from the images still to analyse)' : ''}`;
  const jobs = stage.jobs > 0 ? ` in ${formatCount(stage.jobs, 'batch job')}` : '';
  const send = stage.toSend === 0 ? '0 to send' : `${stage.toSend} to send${jobs}, about ${formatUsd(stage.costUsd)}`;
  return `${name}: ${items}, ${stage.cached} done or cached, ${send}`;
}

/** Pure: the dry run's plan as lines for people, one per stage and one for the total. */
export function describePlan(plan: RunPlan): string[] {
  return [
    describeStagePlan('analyze', plan.analyze),
    `compile: ${formatCount(plan.compile.items, 'prompt')}${plan.compile.estimated ? ' (estimated)' : ''}, free`,
    describeStagePlan('synthesize', plan.synthesize),
    `estimated spend: ${formatUsd(plan.costUsd)} at batch prices (the price table is in chargen.config.json "prices")`,
    ...plan.unpricedModels.map((name) => `no price for ${name}: its cost is not in the estimate (add it to "prices" in chargen.config.json)`),
  ];
}
