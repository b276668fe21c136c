// The planner's conversation: one or more read-only runs of the planner agent, each answer checked
// (core/plan.ts), with at most one correction and one revision asked for.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AgentEvent } from '../agents/agent.js';
import { agentBaseEnvironment } from '../agents/environment.js';
import { adapterFor } from '../agents/registry.js';
import { superviseRun, type RunReport } from '../agents/supervisor.js';
import type { AgentConfig, ProjectConfig } from '../config/schema.js';
import { correctionPrompt, revisionPrompt } from '../core/plan-prompt.js';
import { checkRepeats, parsePlanAnswer, type Plan, type PriorTask, type Refusal } from '../core/plan.js';
import type { AgentPrompt } from '../core/prompt.js';
import { EMPTY_TOTALS, type RunTotals } from '../core/usage.js';
import type { Orch } from './context.js';
import { agentSandbox } from './run-sandbox.js';
import { toolPolicyFor } from './role-prompts.js';

/** Why a planner produced no tasks, by name. */
export type PlanFailureKind = 'agent_failed' | 'invalid_plan' | 'nothing_accepted';

export interface PlanFailure {
  kind: PlanFailureKind;
  message: string;
}

export type RoundRefusal = Refusal & { round: number };

export interface PlannerContext {
  orch: Orch;
  project: ProjectConfig;
  agent: AgentConfig;
  cwd: string;
  runHome: string;
  logPath: string;
  /** The most all rounds together may spend; null: no cap. */
  budgetUsd: number | null;
  signal?: AbortSignal;
  sourceEnv?: NodeJS.ProcessEnv;
  onEvent?: (event: AgentEvent, cost: number | null, logLine: number) => Promise<void>;
  onSpawn?: (pid: number) => Promise<void>;
}

export interface Conversation {
  /** The last usable plan; null when none came. */
  plan: Plan | null;
  /** Indexes of `plan`'s tasks that passed the repeat check. */
  accepted: number[];
  /** Open tasks standing in for proposals refused as already open. */
  standIns: Map<number, number>;
  /** The round `plan` came from. */
  round: number;
  refused: RoundRefusal[];
  failure: PlanFailure | null;
  reports: RunReport[];
  costUsd: number;
  totals: RunTotals;
  retryAfterMs: number | null;
}

/**
 * Asks the planner, checks its answer, and follows up at most twice: once to correct an unusable
 * answer (the validation error goes back to it), once to revise a plan with refused repeats. A second
 * unusable answer is the named failure `invalid_plan` — unless an earlier round gave a usable plan,
 * which then stands. A planner that must propose tasks (a split) and has none accepted fails with
 * `nothing_accepted`.
 */
export async function converse(ctx: PlannerContext, prompt: AgentPrompt, prior: readonly PriorTask[], dir: string, mustPropose = false): Promise<Conversation> {
  writeFileSync(join(dir, 'prompt.md'), `${prompt.prompt}\n\n---\n\n${prompt.systemPromptAppend}\n`, { mode: 0o600 });
  const talk: Conversation = { plan: null, accepted: [], standIns: new Map(), round: 0, refused: [], failure: null, reports: [], costUsd: 0, totals: EMPTY_TOTALS, retryAfterMs: null };
  const resumes = adapterFor(ctx.agent.kind).resumes;
  let corrected = false;
  let revised = false;
  let next: { prompt: string; resume: string | null } = { prompt: prompt.prompt, resume: null };
  for (let round = 1; ; round++) {
    const report = await askPlanner(ctx, prompt.systemPromptAppend, next, talk);
    if (report.outcome !== 'succeeded') {
      talk.failure = { kind: 'agent_failed', message: `the planner's run ${report.outcome}: ${report.reason}` };
      return talk;
    }
    const followUp = (text: (previous: string | null) => string) => {
      writeFileSync(join(dir, `follow-up-${round}.md`), `${text(null)}\n`, { mode: 0o600 });
      next = report.sessionId && resumes ? { prompt: text(null), resume: report.sessionId } : { prompt: `${prompt.prompt}\n\n${text(report.finalText)}`, resume: null };
    };
    const parsed = parsePlanAnswer(report.finalText);
    if (!parsed.ok) {
      if (!corrected) {
        corrected = true;
        followUp((previous) => correctionPrompt(parsed.error, previous));
        continue;
      }
      if (talk.plan === null) talk.failure = { kind: 'invalid_plan', message: `no usable plan after a correction: ${parsed.error}` };
      return finish(talk, mustPropose);
    }
    const check = checkRepeats(parsed.plan.tasks, prior);
    Object.assign(talk, { plan: parsed.plan, accepted: check.accepted, standIns: check.standIns, round });
    talk.refused.push(...check.refused.map((r) => ({ ...r, round })));
    if (check.refused.length > 0 && !revised) {
      revised = true;
      followUp((previous) => revisionPrompt(check.refused, previous));
      continue;
    }
    return finish(talk, mustPropose);
  }
}

function finish(talk: Conversation, mustPropose: boolean): Conversation {
  if (!talk.failure && mustPropose && talk.accepted.length === 0) {
    talk.failure = { kind: 'nothing_accepted', message: talk.refused.length > 0 ? 'every sub-task the planner proposed was refused' : 'the planner proposed no sub-task' };
  }
  return talk;
}

/** One planner run, read-only, within what is left of the budget; its cost and usage added to the conversation's. */
async function askPlanner(ctx: PlannerContext, systemPromptAppend: string, next: { prompt: string; resume: string | null }, talk: Conversation): Promise<RunReport> {
  const { orch, project, agent } = ctx;
  const budgetUsd = ctx.budgetUsd === null ? null : Math.max(0, ctx.budgetUsd - talk.costUsd);
  const env = agentBaseEnvironment(ctx.sourceEnv ?? process.env, agent.env);
  mkdirSync(ctx.runHome, { recursive: true, mode: 0o700 });
  const report = await superviseRun({
    adapter: adapterFor(agent.kind),
    agent,
    spec: {
      prompt: next.prompt,
      systemPromptAppend,
      model: agent.model,
      tools: toolPolicyFor('plan'),
      budgetUsd,
      maxTurns: project.run.maxTurns,
      resumeSessionId: next.resume,
      cwd: ctx.cwd,
      runHome: ctx.runHome,
      env,
    },
    // The planner only reads: its checkout is mounted read-only.
    sandbox: agentSandbox(orch, project, agent, { cwd: ctx.cwd, runHome: ctx.runHome, runDir: dirname(ctx.logPath), readOnly: true, env }, ctx.sourceEnv),
    logPath: ctx.logPath,
    timeoutMs: project.run.timeoutS * 1000,
    stallMs: project.run.stallS * 1000,
    maxOutputBytes: project.run.maxOutputMb * 1024 * 1024,
    budgetUsd,
    prices: orch.config.prices,
    signal: ctx.signal,
    onEvent: async (event, cost, logLine) => {
      if (event.type === 'rate_limit' && event.retryAfterMs !== null) talk.retryAfterMs = event.retryAfterMs;
      await ctx.onEvent?.(event, cost, logLine);
    },
    onSpawn: ctx.onSpawn,
  });
  talk.reports.push(report);
  talk.costUsd += report.costUsd ?? 0;
  talk.totals = addTotals(talk.totals, report.totals);
  return report;
}

const addTotals = (a: RunTotals, b: RunTotals): RunTotals => ({
  inputTokens: a.inputTokens + b.inputTokens,
  outputTokens: a.outputTokens + b.outputTokens,
  cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
  cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
  reportedCostUsd: a.reportedCostUsd === null && b.reportedCostUsd === null ? null : (a.reportedCostUsd ?? 0) + (b.reportedCostUsd ?? 0),
  model: b.model ?? a.model,
});
