import { Hono } from 'hono';
import { OrchError } from '../../core/errors.js';
import { runLogLine, runVerdict } from '../../engine/run-files.js';
import type { ServerDeps } from '../deps.js';
import { listLimit, optionalWholeNumber, wholeNumber } from '../validation.js';

/** Agent attempts, their verdicts, and the claims live ones hold. */
export function runRoutes({ orch }: ServerDeps): Hono {
  const app = new Hono();

  app.get('/runs', async (c) => {
    const runs = await orch.store.listRuns({
      taskId: optionalWholeNumber(c, 'task'),
      project: c.req.query('project') || undefined,
      limit: listLimit(c),
    });
    return c.json(runs);
  });

  app.get('/runs/:id', async (c) => {
    const id = wholeNumber(c.req.param('id'), 'id');
    const run = await orch.store.getRun(id);
    if (!run) throw new OrchError('not_found', `run ${id} not found`);
    return c.json(run);
  });

  app.get('/runs/:id/verdict', async (c) => {
    const id = wholeNumber(c.req.param('id'), 'id');
    const verdict = await runVerdict(orch, id);
    if (verdict === null) throw new OrchError('not_found', `run ${id} was not judged: it has no verdict`);
    return c.body(verdict, 200, { 'Content-Type': 'text/markdown; charset=utf-8' });
  });

  // The whole of an agent output line an event row holds only the start of (its `logLine`).
  app.get('/runs/:id/log/:line', async (c) => {
    const id = wholeNumber(c.req.param('id'), 'id');
    const line = wholeNumber(c.req.param('line'), 'line');
    return c.body(await runLogLine(orch, id, line), 200, { 'Content-Type': 'application/x-ndjson; charset=utf-8' });
  });

  app.get('/claims', async (c) => c.json(await orch.store.listClaims(c.req.query('project') || undefined)));

  return app;
}
