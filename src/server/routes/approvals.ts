import { Hono } from 'hono';
import { z } from 'zod';
import { APPROVAL_STATES } from '../../core/approvals.js';
import { OrchError } from '../../core/errors.js';
import { decideAsPerson } from '../../engine/approvals.js';
import type { ServerDeps } from '../deps.js';
import { listLimit, nonEmptyString, optionalWholeNumber, readJsonBody, wholeNumber } from '../validation.js';

const ReasonBody = z.strictObject({ reason: nonEmptyString.optional() });
const AnswerBody = z.strictObject({ answer: nonEmptyString });

/**
 * The people-in-the-loop inbox: an agent's permission requests and questions (pending by default),
 * and a person's decision on each. The agent waiting on one goes on as soon as it is decided.
 */
export function approvalRoutes({ orch }: ServerDeps): Hono {
  const app = new Hono();

  app.get('/approvals', async (c) => {
    const state = c.req.query('state') ?? 'pending';
    if (state !== 'all' && !(APPROVAL_STATES as readonly string[]).includes(state)) {
      throw new OrchError('invalid_input', `state: expected one of ${APPROVAL_STATES.join(', ')} or all, got "${state}"`);
    }
    const approvals = await orch.store.listApprovals({
      state: state === 'all' ? undefined : (state as (typeof APPROVAL_STATES)[number]),
      project: c.req.query('project') || undefined,
      runId: optionalWholeNumber(c, 'run'),
      limit: listLimit(c),
    });
    return c.json(approvals);
  });

  app.get('/approvals/:id', async (c) => {
    const id = wholeNumber(c.req.param('id'), 'id');
    const approval = await orch.store.getApproval(id);
    if (!approval) throw new OrchError('not_found', `approval #${id} not found`);
    return c.json(approval);
  });

  app.post('/approvals/:id/approve', async (c) => {
    const { reason } = await readJsonBody(c, ReasonBody);
    return c.json(await decideAsPerson(orch, wholeNumber(c.req.param('id'), 'id'), 'approve', reason ?? null));
  });

  app.post('/approvals/:id/deny', async (c) => {
    const { reason } = await readJsonBody(c, ReasonBody);
    return c.json(await decideAsPerson(orch, wholeNumber(c.req.param('id'), 'id'), 'deny', reason ?? null));
  });

  app.post('/approvals/:id/answer', async (c) => {
    const { answer } = await readJsonBody(c, AnswerBody);
    return c.json(await decideAsPerson(orch, wholeNumber(c.req.param('id'), 'id'), 'answer', answer));
  });

  return app;
}
