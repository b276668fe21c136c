import { Hono } from 'hono';
import { z } from 'zod';
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

  return app;
}
