// People in the loop: what an agent may ask (a tool it may not use unasked, or a question), the rules
// that answer a permission request before anyone is asked, and the named outcomes of every request.
// Decision order: the rules (deny first, then allow; a role's own before the project's), then the
// optional LLM approver (core/approver.ts), then a person, then — past the timeout — the project's
// default (deny unless configured).

import { matchesGlob } from './scope.js';
import type { EpochMs, Role } from './types.js';

export const APPROVAL_KINDS = ['permission', 'question'] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

/** `answered` is a question's; `allowed` and `denied` a permission request's; `timed_out` either's. */
export const APPROVAL_STATES = ['pending', 'allowed', 'denied', 'answered', 'timed_out'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/** Who (or what) decided a request. */
export const APPROVAL_DECIDERS = ['rule', 'approver', 'person', 'timeout'] as const;
export type ApprovalDecider = (typeof APPROVAL_DECIDERS)[number];

export const TIMEOUT_DEFAULTS = ['deny', 'allow'] as const;
export type TimeoutDefault = (typeof TIMEOUT_DEFAULTS)[number];

/** What a question's asker hears when nobody answered in time. */
export const NO_ANSWER = 'no answer';

export interface Approval {
  id: number;
  project: string;
  taskId: number;
  runId: number;
  kind: ApprovalKind;
  /** The tool asked for (permission requests); null for a question. */
  tool: string | null;
  /** The tool's input as the agent gave it (permission requests). */
  input: unknown;
  /** The question's text (questions). */
  question: string | null;
  state: ApprovalState;
  decidedBy: ApprovalDecider | null;
  /** Why it was allowed or denied, or a question's answer. */
  reason: string | null;
  createdAt: EpochMs;
  decidedAt: EpochMs | null;
}

/** A decision about a pending request, as the store records it. */
export interface ApprovalDecision {
  state: Exclude<ApprovalState, 'pending'>;
  decidedBy: ApprovalDecider;
  reason: string;
}

export interface RuleLists {
  allow: string[];
  deny: string[];
}

/** A project's `approvals:` settings, resolved. */
export interface ApprovalSettings extends RuleLists {
  /** Off: runs keep today's behaviour (a tool not allowed is refused at once, nobody is asked). */
  enabled: boolean;
  /** How long a request waits for a person before the default applies. */
  timeoutS: number;
  onTimeout: TimeoutDefault;
  /** Rules of one role, looked at before the project's. */
  roles: Partial<Record<Role, RuleLists>>;
  /** The agent asked before a person, when the rules leave a request open; null: none. */
  approver: ApproverSettings | null;
}

export interface ApproverSettings {
  agent: string;
  /** The most one approver run may spend. */
  budgetUsd: number;
  /** Limit of one approver run; past it a person decides. */
  timeoutS: number;
}

export const DEFAULT_APPROVAL_SETTINGS: ApprovalSettings = { enabled: false, timeoutS: 600, onTimeout: 'deny', allow: [], deny: [], roles: {}, approver: null };

/** `Tool` or `Tool(pattern)`; `*` in the tool name matches any characters (`mcp__github__*`). */
export interface ToolRule {
  text: string;
  tool: string;
  pattern: string | null;
}

const RULE = /^([A-Za-z0-9_*.-]+)(?:\((.*)\))?$/s;

/** A rule as written in the config, or why it is not one, in words that say what to write instead. */
export function parseToolRule(text: string): { ok: true; rule: ToolRule } | { ok: false; reason: string } {
  const match = RULE.exec(text.trim());
  if (!match) return { ok: false, reason: `"${text}" is not a rule: write Tool or Tool(pattern), e.g. Bash(npm test*) or Edit(src/**)` };
  const pattern = match[2]?.trim() ?? null;
  if (pattern === '') return { ok: false, reason: `"${text}" has an empty pattern: write ${match[1]} alone to match every use of the tool` };
  return { ok: true, rule: { text, tool: match[1]!, pattern } };
}

/** A permission request as the rules see it. */
export interface ToolRequest {
  tool: string;
  input: unknown;
  /** The run's working directory: paths inside it also match as paths relative to it. */
  cwd: string | null;
}

/** A shell command runs more than one thing (or writes a file) when it holds any of these. */
const SHELL_CONTROL = /[;&|`<>\n]|\$\(/;
/** Where a command line splits into the commands it runs. */
const SHELL_SPLIT = /&&|\|\||[;&|\n]|\$\(|`/;

const PATH_FIELDS = ['file_path', 'filePath', 'path', 'notebook_path'];

/** The command a Bash-like tool runs, or null when the input names none. */
export function commandOf(input: unknown): string | null {
  const value = field(input, 'command') ?? field(input, 'cmd');
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((part) => typeof part === 'string')) return value.join(' ');
  return null;
}

/** The file a tool reads or writes, or null when the input names none. */
export function pathOf(input: unknown): string | null {
  for (const name of PATH_FIELDS) {
    const value = field(input, name);
    if (typeof value === 'string' && value !== '') return value;
  }
  return null;
}

function field(input: unknown, name: string): unknown {
  return input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>)[name] : undefined;
}

/** `*` any characters (slashes and spaces included); everything else literal. */
function wildcardMatches(text: string, pattern: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(text);
}

/**
 * Whether a rule covers a request. A pattern is matched against the tool's command (Bash-like tools)
 * with `*` for any characters, else against its file path as a glob (`**` across directories), the
 * path taken as given and relative to the run's directory. An allow rule never covers a command that
 * chains, substitutes or redirects (`;`, `&`, `|`, backticks, `$(`, `<`, `>`): `npm test*` must not
 * let `npm test; rm -rf ~` through. A deny rule covers a command when any command in it matches.
 */
export function ruleCovers(rule: ToolRule, request: ToolRequest, effect: 'allow' | 'deny'): boolean {
  if (!wildcardMatches(request.tool, rule.tool)) return false;
  if (rule.pattern === null) return true;
  const command = commandOf(request.input);
  if (command !== null) {
    const trimmed = command.trim();
    if (effect === 'allow') return !SHELL_CONTROL.test(trimmed) && wildcardMatches(trimmed, rule.pattern);
    return [trimmed, ...trimmed.split(SHELL_SPLIT).map((part) => part.trim())].some((part) => part !== '' && wildcardMatches(part, rule.pattern!));
  }
  const path = pathOf(request.input);
  if (path === null) return false;
  const candidates = [path];
  if (request.cwd !== null && path.startsWith(`${request.cwd.replace(/\/+$/, '')}/`)) candidates.push(path.slice(request.cwd.replace(/\/+$/, '').length + 1));
  return candidates.some((candidate) => matchesGlob(candidate, rule.pattern!));
}

/** What the rules say: a decision, or nothing (a person is asked). */
export type RuleVerdict = { decided: true; decision: ApprovalDecision } | { decided: false };

/**
 * The rules' answer to a permission request: the role's deny rules, the project's deny rules, the
 * role's allow rules, the project's allow rules, first match wins; a deny always beats an allow.
 * Rules that do not parse were refused with the config: here they simply never match.
 */
export function decideByRules(settings: ApprovalSettings, role: Role | null, request: ToolRequest): RuleVerdict {
  const own = role === null ? undefined : settings.roles[role];
  const lists: [string, string[]][] = [
    ['deny', [...(own?.deny ?? []), ...settings.deny]],
    ['allow', [...(own?.allow ?? []), ...settings.allow]],
  ];
  for (const [effect, texts] of lists) {
    for (const text of texts) {
      const parsed = parseToolRule(text);
      if (!parsed.ok || !ruleCovers(parsed.rule, request, effect as 'allow' | 'deny')) continue;
      const state = effect === 'deny' ? 'denied' : 'allowed';
      return { decided: true, decision: { state, decidedBy: 'rule', reason: `${effect === 'deny' ? 'denied' : 'allowed'} by rule ${text}` } };
    }
  }
  return { decided: false };
}

/** The decision once a request waited `timeoutS` without one. */
export function timeoutDecision(settings: Pick<ApprovalSettings, 'timeoutS' | 'onTimeout'>, kind: ApprovalKind): ApprovalDecision {
  if (kind === 'question') return { state: 'timed_out', decidedBy: 'timeout', reason: `nobody answered within ${settings.timeoutS} s: ${NO_ANSWER}` };
  return { state: 'timed_out', decidedBy: 'timeout', reason: `nobody decided within ${settings.timeoutS} s: ${settings.onTimeout === 'allow' ? 'allowed' : 'denied'} by approvals.on_timeout` };
}

/** Whether the agent may go ahead after this decision (permission requests). */
export function allowsTool(decision: Pick<ApprovalDecision, 'state'>, onTimeout: TimeoutDefault): boolean {
  return decision.state === 'allowed' || (decision.state === 'timed_out' && onTimeout === 'allow');
}

/** A person's decision, checked against the kind of request it answers. */
export function personDecision(kind: ApprovalKind, verdict: 'approve' | 'deny' | 'answer', text: string | null): { ok: true; decision: ApprovalDecision } | { ok: false; reason: string } {
  const words = text?.trim() ?? '';
  if (kind === 'question') {
    if (verdict !== 'answer') return { ok: false, reason: 'this is a question: answer it (orch answer <id> <text>)' };
    if (words === '') return { ok: false, reason: 'an answer cannot be empty' };
    return { ok: true, decision: { state: 'answered', decidedBy: 'person', reason: words } };
  }
  if (verdict === 'answer') return { ok: false, reason: 'this is a permission request: approve or deny it' };
  const state = verdict === 'approve' ? 'allowed' : 'denied';
  return { ok: true, decision: { state, decidedBy: 'person', reason: words === '' ? `${state} by a person` : words } };
}
