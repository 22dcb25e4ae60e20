// The page's actions: each asks first (a run shows its plan and cost), then calls the server.
import { byId, formatState, postJson } from './page.js';

/** A yes/no dialog; also how a failed action is told. */
export function askConfirmation(title, body) {
  byId('confirm-title').textContent = title;
  byId('confirm-body').textContent = body;
  const dialog = byId('confirm');
  return new Promise((resolve) => {
    const finish = (answer) => {
      byId('confirm-yes').onclick = null;
      byId('confirm-no').onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    byId('confirm-yes').onclick = () => finish(true);
    byId('confirm-no').onclick = () => finish(false);
    dialog.onclose = () => finish(false);
    dialog.showModal();
  });
}

export async function startRun(from, title) {
  try {
    const plan = await postJson('/api/plan', from ? { from } : {});
    if (!(await askConfirmation(title, plan.lines.join('\n')))) return;
    await postJson('/api/runs', from ? { from } : {});
  } catch (error) {
    await askConfirmation('The run did not start', error.message);
  }
}

export async function confirmCancel(job) {
  const yes = await askConfirmation(`Cancel ${job.name}?`, `${job.displayName}: ${job.requests} requests, ${formatState(job.state)}.\nA cancelled job's unfinished requests are not charged; chargen asks for them again in a new job on the next run.`);
  if (!yes) return;
  try {
    await postJson('/api/jobs/cancel', { name: job.name });
  } catch (error) {
    await askConfirmation('Cancel failed', error.message);
  }
}
