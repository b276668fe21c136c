import type { AgentConfig, AgentKind, ModelPrice } from '../config/schema.js';
import type { AgentErrorKind } from '../core/outcome.js';
import type { CostReport, UsageReport } from '../core/usage.js';

/**
 * The agent port: how Orch drives one coding-agent CLI headless. An adapter is pure translation —
 * a RunSpec into argv, environment and config files; the CLI's output lines into normalized events —
 * and never spawns anything itself: the supervisor (agents/supervisor.ts) owns processes.
 * One file per CLI: claude.ts, codex.ts, opencode.ts, gemini.ts, command.ts.
 */

/** Orch's one permission model, translated by each adapter into its CLI's own flags. */
export type PermissionMode = 'read-only' | 'edit' | 'full';

export interface ToolPolicy {
  mode: PermissionMode;
  /** Tool names the agent may use without asking (CLI-specific names, e.g. `Bash(npm test:*)`). */
  allowedTools: string[];
  deniedTools: string[];
  /** Extra directories the agent may write besides its working directory. */
  writableDirs: string[];
}

export interface RunSpec {
  prompt: string;
  /** Appended to the CLI's own system prompt (role instructions, the result contract). */
  systemPromptAppend: string | null;
  /** null: the agent config's model, else the CLI's default. */
  model: string | null;
  tools: ToolPolicy;
  /** Cap in USD, passed to CLIs that enforce one; the supervisor enforces it for every CLI. */
  budgetUsd: number | null;
  maxTurns: number | null;
  /** Session id of an earlier run to continue (claude `--resume`, codex `exec resume`). */
  resumeSessionId: string | null;
  /** The worktree the agent works in. */
  cwd: string;
  /**
   * A private directory for this run: the adapter points HOME and the CLI's config dir
   * (CLAUDE_CONFIG_DIR, CODEX_HOME, …) inside it so runs never share state.
   */
  runHome: string;
  /** The base environment, already reduced to the allow-list plus what the agent config names. */
  env: Record<string, string>;
  /**
   * Orch's MCP server for this run (run-mcp/), set when the project has approvals on: CLIs that can
   * route permission requests to an MCP tool (Claude Code) do so, and every CLI that speaks MCP may
   * offer its `ask_person` tool. Absent: nobody is asked, as before.
   */
  approvals?: RunMcpServer | null;
  /**
   * Orch's own OS sandbox wraps the run (set by the supervisor): a CLI's own sandbox is switched off,
   * since it cannot nest inside Orch's (Codex's bubblewrap fails there) and Orch's is the boundary.
   */
  sandboxed?: boolean;
}

/** How to start Orch's MCP server for a run: a stdio command and its environment (the run's API). */
export interface RunMcpServer {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * What to spawn. Files are written (relative to runHome) before the process starts. The prompt never
 * travels in argv — Linux refuses a single argument over 128 KiB, and a task body can be longer —
 * but on `stdin`, which the supervisor writes and then closes (null: stdin closed from the start),
 * or in one of the files.
 */
export interface AgentInvocation {
  command: string;
  args: string[];
  env: Record<string, string>;
  files: { path: string; content: string }[];
  stdin: string | null;
}

/** The normalized stream every adapter produces, whatever its CLI prints. */
export type AgentEvent =
  | { type: 'session_started'; sessionId: string; model: string | null; cwd: string | null; tools: string[] }
  | { type: 'assistant_text'; text: string }
  | { type: 'tool_call'; id: string | null; name: string; input: unknown }
  | { type: 'tool_result'; id: string | null; output: string; isError: boolean }
  /** Token counts, totals so far or a step's own (see UsageReport). */
  | ({ type: 'usage' } & UsageReport)
  /** Cost the CLI itself reported, in USD; same `cumulative` meaning as usage. */
  | ({ type: 'cost' } & CostReport)
  /** Orch refused a usage or cost report that cannot be true; the run's totals left it out. */
  | { type: 'usage_refused'; reason: string; report: UsageReport | CostReport }
  | { type: 'rate_limit'; message: string; retryAfterMs: number | null }
  | { type: 'error'; kind: AgentErrorKind; message: string; status: number | null }
  /** The CLI's own final word. `ok` false when it reports failure (is_error, turn.failed, …). */
  | { type: 'result'; ok: boolean; text: string | null; subtype: string | null; turns: number | null }
  /** A line that was not understood: kept in the log, never fatal. */
  | { type: 'unparsed'; line: string };

export interface AgentAdapter {
  readonly kind: AgentKind;
  /** argv, environment and config files for one run. */
  invocation(spec: RunSpec, agent: AgentConfig): AgentInvocation;
  /** A parser for one run's stdout: called line by line, keeps whatever state the format needs. */
  createParser(): (line: string) => AgentEvent[];
  /** Arguments that make the CLI print its version (`orch agents`); empty when there are none. */
  readonly versionArgs: string[];
  /**
   * Whether the CLI ends every finished run with a `result` event. When it does not (a plain
   * command), exit 0 alone means success: pass this to classifyRunEnd as `resultExpected`.
   */
  readonly reportsResult: boolean;
  /**
   * Whether a run given `resumeSessionId` continues that session (the CLI replays the conversation
   * from its state under the run's HOME). Orch resumes a session its own crash interrupted.
   */
  readonly resumes: boolean;
  /**
   * Whether the CLI saved the session under a run's HOME, so that resuming it can work. Absent: assumed
   * saved. A CLI killed at once (its sandbox ends with Orch) may have saved nothing.
   */
  savedSession?(runHome: string, sessionId: string): boolean;
}

// KillReason, AgentErrorKind and RunTotals live in the pure core, which classifies outcomes and folds
// usage; they are re-exported here so adapters and the supervisor find the whole port in one place.
export type { KillReason, AgentErrorKind } from '../core/outcome.js';
export type { RunTotals } from '../core/usage.js';
export type { AgentConfig, AgentKind, ModelPrice };
