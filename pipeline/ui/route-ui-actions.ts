import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { stageNames } from '../../stages/stage-step.ts';
import type { UiRoutes } from './ui-routes.ts';
import { HttpProblem } from './http-problem.ts';
import { checkActionOrigin, parseWith, readJsonBody } from './read-action-request.ts';
import { routeRegenerateAction } from './route-regenerate.ts';

const runBodySchema = z.object({ from: z.enum(stageNames).optional() }).strict();
const cancelBodySchema = z.object({ name: z.string().regex(/^batches\/[a-zA-Z0-9_-]+$/, 'a batch job name such as batches/abc123') }).strict();

/** POST, from this server's own page only: the plan of a run, a run started, a job cancelled, the artist's loop. */
export async function routeUiAction(routes: UiRoutes, request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
  const { actions } = routes.options;
  checkActionOrigin(request);
  const body = await readJsonBody(request);
  if (path === '/api/plan') return routes.sendJson(response, 200, await actions.plan(parseWith(runBodySchema, body)));
  if (path === '/api/runs') {
    await actions.startRun(parseWith(runBodySchema, body));
    void routes.queueStream.tick();
    return routes.sendJson(response, 202, { started: true });
  }
  if (path === '/api/jobs/cancel') {
    const cancelled = await actions.cancelJob(parseWith(cancelBodySchema, body).name);
    return routes.sendJson(response, 200, { cancelled });
  }
  if (await routeRegenerateAction(routes, response, path, body)) return;
  throw new HttpProblem(404, 'not-found', `No action at ${path}.`);
}
