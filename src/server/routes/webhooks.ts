// POST /webhooks/github and /webhooks/linear: a tracker says something changed, and the daemon ticks
// at once instead of at its next interval. These routes are outside the bearer token; each delivery
// must carry its sender's HMAC signature over the raw body instead. Nothing a delivery says is ever
// used to run anything: an accepted one only becomes an event and a tick request.

import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { OrchError } from '../../core/errors.js';
import {
  decideGithubDelivery,
  decideLinearDelivery,
  isJsonContentType,
  WEBHOOK_SOURCES,
  type WebhookDecision,
  type WebhookSource,
} from '../../core/webhooks.js';
import { recordWebhook } from '../../engine/webhooks.js';
import { limitBody } from '../body-limit.js';
import type { ServerDeps } from '../deps.js';
import { errorResponse } from '../http-errors.js';
import { verifyGithubSignature, verifyLinearSignature, type SignatureCheck } from '../webhook-signature.js';

type WebhookEnv = { Variables: { secret: string } };

/** What differs between senders: how a delivery is signed and what it says. */
interface Sender {
  name: string;
  verify(body: Uint8Array, secret: string, c: Context): SignatureCheck | Promise<SignatureCheck>;
  decide(payload: unknown, c: Context, now: number): WebhookDecision;
}

const SENDERS: Record<WebhookSource, Sender> = {
  github: {
    name: 'GitHub',
    verify: (body, secret, c) => verifyGithubSignature(body, secret, c.req.header('X-Hub-Signature-256')),
    decide: (payload, c) => decideGithubDelivery({ event: c.req.header('X-GitHub-Event'), deliveryId: c.req.header('X-GitHub-Delivery'), payload }),
  },
  linear: {
    name: 'Linear',
    verify: (body, secret, c) => verifyLinearSignature(body, secret, c.req.header('Linear-Signature')),
    decide: (payload, c, now) => decideLinearDelivery({ deliveryId: c.req.header('Linear-Delivery'), payload, now }),
  },
};

export function webhookRoutes(deps: ServerDeps): Hono<WebhookEnv> {
  const app = new Hono<WebhookEnv>();
  const clock = deps.now ?? deps.orch.now;

  /** A bad signature or a stale timestamp: 401, logged in Orch's own words (never the secret, the body or a header's value). */
  const refuseAuthentication = (c: Context, source: WebhookSource, reason: string) => {
    deps.logger?.warn({ webhook: source, reason }, `${source} webhook refused: ${reason}`);
    return errorResponse(c, 'unauthorized', reason);
  };

  const answer = async (c: Context, source: WebhookSource, decision: WebhookDecision) => {
    switch (decision.kind) {
      case 'refuse':
        if (decision.why === 'replay') return refuseAuthentication(c, source, decision.reason);
        return errorResponse(c, 'invalid_input', decision.reason);
      case 'ping':
        return c.json({ ping: true }, 200);
      case 'ignore':
        return c.json({ ignored: true, reason: decision.reason }, 202);
      case 'accept': {
        const { webhook } = decision;
        if ((await recordWebhook(deps.orch, webhook)) === 'duplicate') return c.json({ duplicate: true }, 200);
        const what = webhook.action === null ? webhook.event : `${webhook.event}.${webhook.action}`;
        deps.logger?.info({ webhook: source, delivery: webhook.deliveryId, event: webhook.event, action: webhook.action }, `${source} webhook: ${what}, tick requested`);
        (deps.requestSync ?? deps.requestTick)();
        return c.json({ accepted: true }, 202);
      }
    }
  };

  for (const source of WEBHOOK_SOURCES) {
    const sender = SENDERS[source];
    app.post(`/webhooks/${source}`, acceptOnly(source, deps), limitBody(), async (c) => {
      // The signature covers the bytes as sent, so it is checked before anything reads them as JSON.
      const body = new Uint8Array(await c.req.arrayBuffer());
      const signature = await sender.verify(body, c.get('secret'), c);
      if (!signature.ok) return refuseAuthentication(c, source, signature.reason);
      return answer(c, source, sender.decide(parseJson(body), c, clock()));
    });
  }

  return app;
}

/**
 * Lets a delivery through only when its source is configured and its secret is in the environment
 * (read per request, so a config reload applies at once), and only with a JSON body.
 */
function acceptOnly(source: WebhookSource, deps: ServerDeps): MiddlewareHandler<WebhookEnv> {
  return async (c, next) => {
    const configured = deps.orch.config.webhooks[source];
    if (configured === null) return errorResponse(c, 'not_found', `${SENDERS[source].name} webhooks are off: set webhooks.${source}.secret_env in config.yaml`);
    const secret = (deps.env ?? process.env)[configured.secretEnv];
    if (secret === undefined || secret === '') {
      deps.logger?.warn({ webhook: source }, `${source} webhook refused: ${configured.secretEnv} is not set in the daemon's environment`);
      return errorResponse(c, 'config', `the ${SENDERS[source].name} webhook secret is not set in the daemon's environment`, 503);
    }
    if (!isJsonContentType(c.req.header('Content-Type'))) {
      return errorResponse(c, 'invalid_input', `Content-Type: expected application/json (set the ${SENDERS[source].name} webhook to send JSON)`, 415);
    }
    c.set('secret', secret);
    await next();
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The signed body as JSON; the payload's shape is core/webhooks.ts's to judge. */
function parseJson(body: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new OrchError('invalid_input', 'request body: not valid UTF-8');
  }
  if (text.trim() === '') throw new OrchError('invalid_input', 'request body: empty, expected a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8 quotes a piece of the input: kept to one short line, as every error message is.
    const detail = (error as Error).message.replace(/\s+/g, ' ').slice(0, 160);
    throw new OrchError('invalid_input', `request body: malformed JSON (${detail})`);
  }
}
