// What the API answers, as the dashboard reads it. The domain types come from the pure core (type-only:
// nothing of the server is bundled); the few answers built outside the core are mirrored here.

import type { Run, Task } from '../src/core/types.js';

export type { HostView } from '../src/core/hosts.js';
export type { OrchEvent, Project, Run, RunOutcome, Task, TaskState } from '../src/core/types.js';
export type { AgentStats, DaySpend, HistogramBucket, ModelStats, PortfolioProject, PortfolioReport, ProjectSummary, StatsReport, SuccessRate } from '../src/core/run-stats.js';

/** `GET /tasks/:id/diff` (engine/task-diff.ts). */
export interface TaskDiff {
  taskId: number;
  branch: string;
  base: string;
  source: 'branch' | 'saved' | 'none';
  runId: number | null;
  diff: string;
  truncated: boolean;
}

/** `GET /tasks/:id`. */
export interface TaskDetail {
  task: Task;
  runs: Run[];
  claim: { runId: number | null; owner: string; leaseUntil: number } | null;
}

/**
 * The data of an `agent.*` event: the agent port's normalized AgentEvent (src/agents/agent.ts) as the
 * attempt stored it. Only the fields the page shows are named.
 */
/** An agent event as stored: long fields cut (by how much in `cut`), `logLine` naming its line of agent.jsonl. */
export type AgentEventData = { cut?: Record<string, number>; logLine?: number } & (
  | { type: 'session_started'; sessionId: string; model: string | null }
  | { type: 'assistant_text'; text: string }
  | { type: 'tool_call'; id: string | null; name: string; input: unknown }
  | { type: 'tool_result'; id: string | null; output: string; isError: boolean }
  | { type: 'rate_limit'; message: string; retryAfterMs: number | null }
  | { type: 'error'; kind: string; message: string; status: number | null }
  | { type: 'usage_refused'; reason: string }
  | { type: 'result'; ok: boolean; text: string | null; subtype: string | null; turns: number | null }
);

/** The checks of a `judge.verdict` event (core/verdict.ts). */
export interface VerdictEventData {
  passed: boolean;
  summary: string;
  checks: { name: string; passed: boolean; skipped: boolean; detail: string }[];
}
