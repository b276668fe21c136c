import { Hono } from 'hono';
import { z } from 'zod';
import { refusalCode } from '../../core/delivery.js';
import { OrchError } from '../../core/errors.js';
import { deliverHeld } from '../../engine/delivery.js';
import { projectStatus, setPaused } from '../../engine/projects.js';
import type { ServerDeps } from '../deps.js';
import { expected, readJsonBody } from '../validation.js';

const PauseBody = z.strictObject({ reason: z.string(expected('a string')).trim().min(1, { error: 'expected a non-empty string' }).optional() });
const NoBody = z.strictObject({});

export function projectRoutes({ orch, requestTick }: ServerDeps): Hono {
  const app = new Hono();

  app.get('/projects', async (c) => c.json(await orch.store.listProjects()));

  app.get('/projects/:name', async (c) => c.json(await projectStatus(orch, c.req.param('name'))));

  app.post('/projects/:name/pause', async (c) => {
    const { reason } = await readJsonBody(c, PauseBody);
    return c.json(await setPaused(orch, c.req.param('name'), true, reason));
  });

  app.post('/projects/:name/resume', async (c) => {
    await readJsonBody(c, NoBody);
    const project = await setPaused(orch, c.req.param('name'), false);
    requestTick(); // its waiting tasks may start now
    return c.json(project);
  });

  // What waits for the project's checkout, delivered now; a refusal says why, as the portfolio does.
  app.post('/projects/:name/deliver', async (c) => {
    await readJsonBody(c, NoBody);
    const outcome = await deliverHeld(orch, c.req.param('name'));
    if (outcome.result.delivered) return c.json(outcome);
    const message = `${outcome.project}: ${outcome.held?.summary ?? outcome.result.message}`;
    if (refusalCode(outcome.result.reason) === 'conflict') throw new OrchError('conflict', message);
    throw new Error(message);
  });

  return app;
}
