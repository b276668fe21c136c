import { setTimeout as sleep } from 'node:timers/promises';
import {
  NO_ANSWER,
  allowsTool,
  decideByRules,
  personDecision,
  timeoutDecision,
  type Approval,
  type ApprovalSettings,
} from '../core/approvals.js';
import { OrchError } from '../core/errors.js';
import type { Role } from '../core/types.js';
import { askApprover } from './approver.js';
import type { Orch } from './context.js';

// People in the loop, for one run: its agent's permission requests go to the project's rules, then
// its LLM approver when it has one (engine/approver.ts), then a person; its questions to a person. The agent waits meanwhile (its MCP tool call is open); a person
// decides from the dashboard, the HTTP API or `orch approve|deny|answer`, in this process or another,
// which is why a waiting request looks at the store rather than at this process's memory. Past the
// timeout the project's default decides.

/** The run a request comes from. */
export interface ApprovalCaller {
  project: string;
  taskId: number;
  runId: number;
  role: Role | null;
  /** The run's working directory (paths in rules are relative to it). */
  cwd: string | null;
}

/** How often a waiting request looks for a decision made elsewhere. */
const POLL_MS = 250;

export interface PermissionAnswer {
  approval: number;
  allow: boolean;
  /** Why, in a line the agent reads. */
  message: string;
}

/** A permission request of a run's agent: the rules answer at once, else it waits for a person or the timeout. */
export async function requestPermission(orch: Orch, caller: ApprovalCaller, tool: string, input: unknown, signal?: AbortSignal): Promise<PermissionAnswer> {
  const settings = approvalSettings(orch, caller.project);
  const verdict = decideByRules(settings, caller.role, { tool, input, cwd: caller.cwd });
  let decision = verdict.decided ? verdict.decision : undefined;
  if (!decision && settings.approver) {
    const own = caller.role === null ? undefined : settings.roles[caller.role];
    const asked = await askApprover(orch, settings.approver, caller, { tool, input, allow: [...(own?.allow ?? []), ...settings.allow], deny: [...(own?.deny ?? []), ...settings.deny] }, { signal });
    if (asked.decision) decision = asked.decision;
    else await orch.store.appendEvent({ type: 'approval.approver_passed', project: caller.project, taskId: caller.taskId, runId: caller.runId, data: { tool, reason: asked.passed } }, orch.now());
  }
  const request = { project: caller.project, taskId: caller.taskId, runId: caller.runId, kind: 'permission' as const, tool, input, question: null };
  const created = await orch.store.createApproval(request, orch.now(), decision);
  const decided = created.state === 'pending' ? await awaitDecision(orch, created, settings, signal) : created;
  const allow = decided.state !== 'pending' && allowsTool({ state: decided.state }, settings.onTimeout);
  return { approval: decided.id, allow, message: decided.reason ?? (allow ? 'allowed' : 'denied') };
}

/** A question of a run's agent to a person: the answer, or "no answer" once the timeout passed. */
export async function askPerson(orch: Orch, caller: ApprovalCaller, question: string, signal?: AbortSignal): Promise<{ approval: number; answer: string }> {
  const settings = approvalSettings(orch, caller.project);
  const request = { project: caller.project, taskId: caller.taskId, runId: caller.runId, kind: 'question' as const, tool: null, input: null, question };
  const decided = await awaitDecision(orch, await orch.store.createApproval(request, orch.now()), settings, signal);
  return { approval: decided.id, answer: decided.state === 'answered' && decided.reason !== null ? decided.reason : NO_ANSWER };
}

/**
 * A person's decision on a pending request (`orch approve|deny|answer`, the HTTP API). Refused in one
 * line when there is no such request, it was decided already, or the verdict does not fit its kind.
 */
export async function decideAsPerson(orch: Orch, id: number, verdict: 'approve' | 'deny' | 'answer', text: string | null): Promise<Approval> {
  const approval = await orch.store.getApproval(id);
  if (!approval) throw new OrchError('not_found', `approval #${id} not found: see \`orch approvals\``);
  if (approval.state !== 'pending') throw alreadyDecided(approval);
  const decision = personDecision(approval.kind, verdict, text);
  if (!decision.ok) throw new OrchError('invalid_input', `approval #${id}: ${decision.reason}`);
  const decided = await orch.store.decideApproval(id, decision.decision, orch.now());
  if (!decided) throw alreadyDecided((await orch.store.getApproval(id)) ?? approval);
  return decided;
}

const alreadyDecided = (approval: Approval) =>
  new OrchError('conflict', `approval #${approval.id} was already decided (${approval.state} by ${approval.decidedBy ?? 'nobody'}): nothing to do`);

function approvalSettings(orch: Orch, project: string): ApprovalSettings {
  const settings = orch.config.projects[project]?.approvals;
  if (!settings) throw new OrchError('config', `project "${project}" is not in config.yaml`);
  return settings;
}

/** Waits until someone decides the request, or decides it by the timeout (or the run's end, `signal`). */
async function awaitDecision(orch: Orch, approval: Approval, settings: ApprovalSettings, signal?: AbortSignal): Promise<Approval> {
  const deadline = approval.createdAt + settings.timeoutS * 1000;
  for (;;) {
    const current = await orch.store.getApproval(approval.id);
    if (!current) throw new OrchError('not_found', `approval #${approval.id} disappeared (its project was removed)`);
    if (current.state !== 'pending') return current;
    if (orch.now() >= deadline) {
      const timedOut = await orch.store.decideApproval(approval.id, timeoutDecision(settings, approval.kind), orch.now());
      // A person who decided in the last instant wins: read what was decided.
      if (timedOut) return timedOut;
      continue;
    }
    if (signal?.aborted) {
      // Nobody is left to tell: the request leaves the inbox rather than wait there forever.
      await orch.store.decideApproval(approval.id, { state: 'timed_out', decidedBy: 'timeout', reason: 'the run ended before anyone decided' }, orch.now());
      throw new OrchError('conflict', `the run ended while approval #${approval.id} waited`);
    }
    await sleep(Math.max(1, Math.min(POLL_MS, deadline - orch.now())));
  }
}
