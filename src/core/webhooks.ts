// What Orch makes of a webhook delivery, decided without I/O: whether a signature header has the form
// its sender uses, which deliveries concern Orch, the id a delivery is deduplicated by, and Linear's
// replay window. Computing and comparing the HMAC needs node:crypto, so that half lives with the server
// (server/webhook-signature.ts); everything here runs on a payload whose signature already matched.
//
// Payloads are read field by field through `ownField`, never merged or spread, so a key such as
// `__proto__` or `constructor` is just an unknown key. Refusal reasons are Orch's own words: a header
// value or payload text is never echoed back.

export const WEBHOOK_SOURCES = ['github', 'linear'] as const;
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number];

/** A delivery that concerns Orch, reduced to what the event log keeps of it. */
export interface AcceptedWebhook {
  source: WebhookSource;
  deliveryId: string;
  /** GitHub's event name (`issues`), Linear's entity type (`Issue`). */
  event: string;
  action: string | null;
  /** GitHub's `owner/name`, when the payload names a repository. */
  repository: string | null;
  /** Linear's team key, when the payload carries one. */
  team: string | null;
}

export type WebhookDecision =
  /** `malformed`: the payload or a header is not what the sender sends; `replay`: a stale delivery. */
  | { kind: 'refuse'; why: 'malformed' | 'replay'; reason: string }
  /** GitHub's hello when a webhook is created: answered, nothing else. */
  | { kind: 'ping' }
  | { kind: 'ignore'; reason: string }
  | { kind: 'accept'; webhook: AcceptedWebhook };

export type HeaderCheck = { ok: true; hex: string } | { ok: false; reason: string };

// Both senders write the digest in lowercase hex; anything else did not come from them.
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const GITHUB_SIGNATURE_PREFIX = 'sha256=';

/** The digest of an `X-Hub-Signature-256: sha256=<hex>` header, or why the header is not one. */
export function parseGithubSignatureHeader(header: string | undefined): HeaderCheck {
  if (header === undefined || header === '') return { ok: false, reason: 'X-Hub-Signature-256 header: required' };
  const hex = header.startsWith(GITHUB_SIGNATURE_PREFIX) ? header.slice(GITHUB_SIGNATURE_PREFIX.length) : '';
  if (!HEX_SHA256.test(hex)) return { ok: false, reason: 'X-Hub-Signature-256 header: expected "sha256=" and 64 lowercase hex digits' };
  return { ok: true, hex };
}

/** The digest of a `Linear-Signature: <hex>` header, or why the header is not one. */
export function parseLinearSignatureHeader(header: string | undefined): HeaderCheck {
  if (header === undefined || header === '') return { ok: false, reason: 'Linear-Signature header: required' };
  if (!HEX_SHA256.test(header)) return { ok: false, reason: 'Linear-Signature header: expected 64 lowercase hex digits' };
  return { ok: true, hex: header };
}

/** `application/json`, optionally with `charset=utf-8`: the only body both senders are set up to send. */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [mediaType, ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== 'application/json') return false;
  return parameters.every((parameter) => parameter === '' || /^charset="?utf-8"?$/.test(parameter));
}

// ---------------------------------------------------------------- which deliveries matter

/** Per event, the actions that can change what Orch should run; `all`: every action does. */
const GITHUB_EVENTS: ReadonlyMap<string, ReadonlySet<string> | 'all'> = new Map<string, ReadonlySet<string> | 'all'>([
  ['issues', new Set(['opened', 'edited', 'closed', 'reopened', 'labeled', 'unlabeled', 'assigned'])],
  ['issue_comment', new Set(['created', 'edited'])],
  ['pull_request', new Set(['closed', 'reopened', 'synchronize', 'edited', 'ready_for_review'])],
  // An open pull request's reviews and checks: Orch looks at its in_review tasks at once.
  ['pull_request_review', 'all'],
  ['pull_request_review_comment', 'all'],
  ['check_suite', 'all'],
  ['check_run', 'all'],
  ['status', 'all'],
  ['sub_issues', 'all'],
]);

const LINEAR_EVENTS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['Issue', new Set(['create', 'update', 'remove'])],
  ['Comment', new Set(['create'])],
]);

function matters(table: ReadonlyMap<string, ReadonlySet<string> | 'all'>, event: string, action: string | null): boolean {
  const actions = table.get(event);
  if (actions === undefined) return false;
  return actions === 'all' || (action !== null && actions.has(action));
}

const describeEvent = (event: string, action: string | null) => (action === null ? event : `${event}.${action}`);

// ---------------------------------------------------------------- reading payloads

// Ids and names are short tokens in practice; the bounds keep a signed but odd payload from putting
// arbitrary text into the event log.
const EVENT_NAME = /^[A-Za-z_]{1,64}$/;
const ACTION_NAME = /^[A-Za-z_]{1,64}$/;
const DELIVERY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const REPOSITORY = /^[\w.-]{1,100}\/[\w.-]{1,100}$/;
const TEAM_KEY = /^[A-Za-z0-9_-]{1,32}$/;

type JsonObject = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A key the object itself holds: inherited names (`constructor`, `toString`) are never read. */
function ownField(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

/** The string at `key` when it matches `pattern`; null when absent; undefined when present but wrong. */
function optionalToken(value: unknown, key: string, pattern: RegExp): string | null | undefined {
  const field = ownField(value, key);
  if (field === undefined || field === null) return null;
  return typeof field === 'string' && pattern.test(field) ? field : undefined;
}

const malformed = (reason: string): WebhookDecision => ({ kind: 'refuse', why: 'malformed', reason });
const NOT_AN_OBJECT = malformed('request body: expected a JSON object');

// ---------------------------------------------------------------- GitHub

export interface GithubDelivery {
  /** `X-GitHub-Event`. */
  event: string | undefined;
  /** `X-GitHub-Delivery`. */
  deliveryId: string | undefined;
  /** The body, parsed; its signature has been checked. */
  payload: unknown;
}

export function decideGithubDelivery({ event, deliveryId, payload }: GithubDelivery): WebhookDecision {
  if (event === undefined || event === '') return malformed('X-GitHub-Event header: required');
  if (!EVENT_NAME.test(event)) return malformed('X-GitHub-Event header: expected an event name such as "issues"');
  if (deliveryId === undefined || deliveryId === '') return malformed('X-GitHub-Delivery header: required');
  if (!DELIVERY_ID.test(deliveryId)) return malformed('X-GitHub-Delivery header: expected a delivery id (letters, digits, "-")');
  if (!isObject(payload)) return NOT_AN_OBJECT;
  const action = optionalToken(payload, 'action', ACTION_NAME);
  if (action === undefined) return malformed('action: expected an action name');

  if (event === 'ping') return { kind: 'ping' };
  if (!matters(GITHUB_EVENTS, event, action)) return { kind: 'ignore', reason: `${describeEvent(event, action)} does not concern Orch` };
  const repository = optionalToken(ownField(payload, 'repository'), 'full_name', REPOSITORY) ?? null;
  return { kind: 'accept', webhook: { source: 'github', deliveryId, event, action, repository, team: null } };
}

// ---------------------------------------------------------------- Linear

/** How far a Linear delivery's `webhookTimestamp` may be from the clock, either way. */
export const LINEAR_REPLAY_WINDOW_MS = 60_000;

export type TimestampCheck = { ok: true } | { ok: false; why: 'malformed' | 'replay'; reason: string };

/** Linear's replay guard: the signed `webhookTimestamp` (epoch ms) must be within the window of `now`. */
export function checkLinearTimestamp(value: unknown, now: number, windowMs: number = LINEAR_REPLAY_WINDOW_MS): TimestampCheck {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    return { ok: false, why: 'malformed', reason: 'webhookTimestamp: expected a time in epoch milliseconds' };
  }
  const skewS = Math.round((value - now) / 1000);
  if (Math.abs(value - now) > windowMs) {
    const when = skewS < 0 ? `${-skewS} s in the past` : `${skewS} s in the future`;
    return { ok: false, why: 'replay', reason: `webhookTimestamp: ${when}, outside the ${windowMs / 1000} s replay window` };
  }
  return { ok: true };
}

export interface LinearDelivery {
  /** `Linear-Delivery`; when absent, the payload's `webhookId` and `createdAt` name the delivery. */
  deliveryId: string | undefined;
  payload: unknown;
  now: number;
}

const WEBHOOK_ID = /^[A-Za-z0-9-]{1,64}$/;
const CREATED_AT = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{1,20}(Z|[+-][0-9]{2}:[0-9]{2})$/;

function linearDeliveryId(header: string | undefined, payload: JsonObject): string | null | undefined {
  if (header !== undefined && header !== '') return DELIVERY_ID.test(header) ? header : undefined;
  const webhookId = optionalToken(payload, 'webhookId', WEBHOOK_ID);
  const createdAt = optionalToken(payload, 'createdAt', CREATED_AT);
  if (!webhookId || !createdAt) return null;
  return `${webhookId}:${createdAt}`;
}

export function decideLinearDelivery({ deliveryId: header, payload, now }: LinearDelivery): WebhookDecision {
  if (!isObject(payload)) return NOT_AN_OBJECT;
  const fresh = checkLinearTimestamp(ownField(payload, 'webhookTimestamp'), now);
  if (!fresh.ok) return { kind: 'refuse', why: fresh.why, reason: fresh.reason };
  const deliveryId = linearDeliveryId(header, payload);
  if (deliveryId === undefined) return malformed('Linear-Delivery header: expected a delivery id (letters, digits, "-")');
  if (deliveryId === null) return malformed('Linear-Delivery header: required (or webhookId and createdAt in the body)');
  const type = optionalToken(payload, 'type', EVENT_NAME);
  if (!type) return malformed('type: expected an entity type such as "Issue"');
  const action = optionalToken(payload, 'action', ACTION_NAME);
  if (action === undefined) return malformed('action: expected an action name');

  if (!matters(LINEAR_EVENTS, type, action)) return { kind: 'ignore', reason: `${describeEvent(type, action)} does not concern Orch` };
  const team = optionalToken(ownField(ownField(payload, 'data'), 'team'), 'key', TEAM_KEY) ?? null;
  return { kind: 'accept', webhook: { source: 'linear', deliveryId, event: type, action, repository: null, team } };
}
