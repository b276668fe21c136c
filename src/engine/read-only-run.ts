// One run of a helper agent that only reads — the judge's reviewer, the router, the approver — in a
// directory of its own, with its own HOME: the same setup for each, their limits given by the caller.

import { mkdirSync } from 'node:fs';
import type { ToolPolicy } from '../agents/agent.js';
import { agentBaseEnvironment } from '../agents/environment.js';
import { adapterFor } from '../agents/registry.js';
import { superviseRun, type RunReport } from '../agents/supervisor.js';
import type { AgentConfig, ProjectConfig } from '../config/schema.js';
import type { Orch } from './context.js';
import { agentSandbox } from './run-sandbox.js';

const READ_ONLY: ToolPolicy = { mode: 'read-only', allowedTools: [], deniedTools: [], writableDirs: [] };

export interface ReadOnlyRun {
  project: ProjectConfig;
  agent: AgentConfig;
  prompt: string;
  /** Where it runs: mounted read-only in its sandbox. */
  cwd: string;
  runHome: string;
  /** The folder of its prompt and log (its sandbox may write there). */
  runDir: string;
  logPath: string;
  timeoutMs: number;
  /** Silence after which it counts as stalled; default its timeout. */
  stallMs?: number;
  maxTurns: number | null;
  /** The most it may spend; null: no cap of its own. */
  budgetUsd: number | null;
  maxOutputBytes?: number;
  signal?: AbortSignal;
  sourceEnv?: NodeJS.ProcessEnv;
}

export async function runReadOnlyAgent(orch: Orch, run: ReadOnlyRun): Promise<RunReport> {
  const { project, agent } = run;
  const env = agentBaseEnvironment(run.sourceEnv ?? process.env, agent.env);
  mkdirSync(run.runHome, { recursive: true, mode: 0o700 });
  return superviseRun({
    adapter: adapterFor(agent.kind),
    agent,
    spec: {
      prompt: run.prompt,
      systemPromptAppend: null,
      model: agent.model,
      tools: READ_ONLY,
      budgetUsd: run.budgetUsd,
      maxTurns: run.maxTurns,
      resumeSessionId: null,
      cwd: run.cwd,
      runHome: run.runHome,
      env,
    },
    sandbox: agentSandbox(orch, project, agent, { cwd: run.cwd, runHome: run.runHome, runDir: run.runDir, readOnly: true, env }, run.sourceEnv),
    logPath: run.logPath,
    timeoutMs: run.timeoutMs,
    stallMs: run.stallMs ?? run.timeoutMs,
    ...(run.maxOutputBytes === undefined ? {} : { maxOutputBytes: run.maxOutputBytes }),
    budgetUsd: run.budgetUsd,
    prices: orch.config.prices,
    signal: run.signal,
  });
}
