// The scripted conversation a fake model server plays back. A script is plain JSON so a test can build it
// inline, save it next to a recording, or send it to a server in another process.

/** A tool call in CLI-neutral terms; each API translates it into its CLI's own tool (see tool-binding.ts). */
export type ToolStep =
  /** `path` is relative to the agent's working directory (absolute paths are used as given). */
  | { tool: 'write_file'; path: string; content: string }
  | { tool: 'edit_file'; path: string; old: string; new: string }
  | { tool: 'shell'; command: string }
  /** A tool of an MCP server the CLI was given: `name` as the server calls it (`add_task`), `input` as given. */
  | { tool: 'mcp'; name: string; input: Record<string, unknown> }
  /** A tool the CLI offers, called by its exact name with this input (an MCP server's, say: `mcp__orch__ask_person`). */
  | { tool: 'named'; name: string; input: Record<string, unknown> };

/** Token counts the server reports for one response: CLIs that price runs (Claude, OpenCode) cost them from these. */
export interface TokenUsage {
  input: number;
  output: number;
}

/** Behaviour knobs, settable per server (defaults for every response) and per turn (overrides). */
export interface ResponseKnobs {
  /** Wait this long before the response starts (headers included). */
  delayMs?: number;
  /** Send the response headers (for a stream: open it) and then nothing, until the server closes: a stall. */
  hang?: boolean;
  /** Pause between stream frames. */
  chunkDelayMs?: number;
  /** Answer with this HTTP error status and the API's own error body (429, 500, 529, …) instead of content. */
  status?: number;
  /**
   * How many requests for this turn get `status` before the turn is served normally: 1 models a failure the
   * CLI's retry recovers from. Unset: every request fails. Side requests always fail when `status` is set.
   */
  errorAttempts?: number;
  /** `retry-after` (seconds) sent with a 429 or 529; default 1. */
  retryAfterSeconds?: number;
  /** Message inside the error body; default names the status. */
  errorMessage?: string;
  usage?: TokenUsage;
}

/**
 * One model response: tool calls (optionally preceded by a sentence), or a final text. A turn with only knobs
 * (`{ status: 529 }`) is an error turn; once its `errorAttempts` are used up it answers the side text.
 */
export type ScriptTurn = ({ tools: ToolStep[]; text?: string } | { text: string } | { status: number }) & ResponseKnobs;

export type Script = ScriptTurn[];

export const DEFAULT_USAGE: TokenUsage = { input: 100, output: 10 };

/** What the server answers requests that are not part of the agent loop (titles, summaries), and turns past the script's end. */
export const DEFAULT_SIDE_TEXT = 'Fake model reply';

/** The response for the request that comes after `completedTurns` model turns, or null past the script's end. */
export function turnAt(script: Script, completedTurns: number): ScriptTurn | null {
  return script[completedTurns] ?? null;
}

export function toolSteps(turn: ScriptTurn): ToolStep[] {
  return 'tools' in turn ? turn.tools : [];
}

/** Server-wide knobs overlaid with a turn's own. A server-wide `errorAttempts` counts per turn. */
export function effectiveKnobs(serverKnobs: ResponseKnobs, turn: ScriptTurn | null): ResponseKnobs {
  return { ...serverKnobs, ...(turn ? knobsOf(turn) : {}) };
}

function knobsOf(turn: ScriptTurn): ResponseKnobs {
  const { delayMs, hang, chunkDelayMs, status, errorAttempts, retryAfterSeconds, errorMessage, usage } = turn;
  const knobs: ResponseKnobs = { delayMs, hang, chunkDelayMs, status, errorAttempts, retryAfterSeconds, errorMessage, usage };
  for (const key of Object.keys(knobs) as (keyof ResponseKnobs)[]) if (knobs[key] === undefined) delete knobs[key];
  return knobs;
}
