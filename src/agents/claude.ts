// Claude Code, headless: `claude -p --output-format stream-json --verbose …`, the prompt on stdin and
// the appended system prompt in a file (`--append-system-prompt-file`).
// Flags, environment and event format as measured on the pinned CLI (test/fixtures/agent-streams/).

import { join } from 'node:path';
import type { AgentAdapter, AgentConfig, AgentEvent, AgentInvocation, RunMcpServer, RunSpec, ToolPolicy } from './agent.js';
import { savedTranscript } from './saved-session.js';
import { inRunHome, modelFor, runEnvironment } from './invocation-helpers.js';
import {
  type JsonObject,
  arrayField,
  asObject,
  countField,
  failureEvents,
  numberField,
  objectField,
  parseJsonObject,
  statusInText,
  stringField,
  tolerant,
  unparsed,
} from './stream-helpers.js';

/** Tools a read-only run may use: reading and searching the worktree, nothing that writes. */
const READ_ONLY_TOOLS = ['Read', 'Glob', 'Grep', 'LS'];
const WRITING_TOOLS = ['Edit', 'Write', 'NotebookEdit'];
/** Inside the run's home: the worktree stays clean. */
const SYSTEM_PROMPT_FILE = 'orch-system-prompt.md';
const MCP_CONFIG_FILE = 'orch-mcp.json';
/** Orch's MCP server for the run (run-mcp/server.ts) and its tools, as Claude Code names them. */
const PERMISSION_PROMPT_TOOL = 'mcp__orch__permission_prompt';
const ASK_PERSON_TOOL = 'mcp__orch__ask_person';

export const claudeAdapter: AgentAdapter = {
  kind: 'claude',
  versionArgs: ['--version'],
  reportsResult: true,
  resumes: true,
  // Transcripts live in CLAUDE_CONFIG_DIR/projects/<the worktree's path, mangled>/<session>.jsonl.
  savedSession: (runHome, sessionId) => savedTranscript(join(runHome, '.claude', 'projects'), sessionId, 1),
  invocation: claudeInvocation,
  createParser: createClaudeParser,
};

function claudeInvocation(spec: RunSpec, agent: AgentConfig): AgentInvocation {
  const approvals = spec.approvals ?? null;
  const args = ['-p', '--output-format', 'stream-json', '--verbose', ...permissionArgs(spec.tools, approvals !== null)];
  const model = modelFor(spec, agent);
  if (model !== null) args.push('--model', model);
  if (spec.budgetUsd !== null) args.push('--max-budget-usd', String(spec.budgetUsd));
  if (spec.maxTurns !== null) args.push('--max-turns', String(spec.maxTurns));
  if (spec.resumeSessionId !== null) args.push('--resume', spec.resumeSessionId);
  const files: AgentInvocation['files'] = [];
  if (approvals !== null) {
    files.push({ path: MCP_CONFIG_FILE, content: mcpConfig(approvals) });
    args.push('--mcp-config', inRunHome(spec, MCP_CONFIG_FILE), '--strict-mcp-config', '--permission-prompt-tool', PERMISSION_PROMPT_TOOL);
  }
  if (spec.systemPromptAppend !== null && spec.systemPromptAppend !== '') {
    files.push({ path: SYSTEM_PROMPT_FILE, content: spec.systemPromptAppend });
    args.push('--append-system-prompt-file', inRunHome(spec, SYSTEM_PROMPT_FILE));
  }
  args.push(...agent.args);

  const isolation: Record<string, string> = { HOME: spec.runHome, CLAUDE_CONFIG_DIR: inRunHome(spec, '.claude') };
  // As root, bypassPermissions refuses to start unless the CLI is told it runs in a sandbox.
  if (spec.tools.mode === 'full') isolation.IS_SANDBOX = '1';
  const env = runEnvironment(spec, agent, { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' }, isolation);
  return { command: agent.command, args, env, files, stdin: spec.prompt };
}

/**
 * Orch's permission model in Claude's terms. Headless there is nobody to ask, so anything not
 * allowed is refused:
 * - read-only: `dontAsk` with only reading tools (plus the policy's own allow rules), writing tools denied;
 * - edit: `acceptEdits` — file edits inside the worktree and writableDirs, other tools only when allowed;
 * - full: `bypassPermissions` (with IS_SANDBOX=1, see above); deny rules still hold.
 * With approvals on, what would be refused is asked of Orch's permission prompt tool instead (read-only
 * runs then use `default`, since `dontAsk` never asks), and `ask_person` is allowed.
 */
function permissionArgs(tools: ToolPolicy, approvals: boolean): string[] {
  const args: string[] = [];
  let allowed = approvals ? [...tools.allowedTools, ASK_PERSON_TOOL] : tools.allowedTools;
  let denied = tools.deniedTools;
  if (tools.mode === 'read-only') {
    args.push('--permission-mode', approvals ? 'default' : 'dontAsk');
    allowed = unique([...READ_ONLY_TOOLS, ...allowed]);
    denied = unique([...WRITING_TOOLS, ...denied]);
  } else {
    args.push('--permission-mode', tools.mode === 'edit' ? 'acceptEdits' : 'bypassPermissions');
    if (tools.writableDirs.length > 0) args.push('--add-dir', ...tools.writableDirs);
  }
  if (allowed.length > 0 && tools.mode !== 'full') args.push('--allowedTools', ...allowed);
  if (denied.length > 0) args.push('--disallowedTools', ...denied);
  return args;
}

const unique = (items: string[]) => [...new Set(items)];

function mcpConfig(server: RunMcpServer): string {
  return `${JSON.stringify({ mcpServers: { orch: { type: 'stdio', command: server.command, args: server.args, env: server.env } } }, null, 2)}\n`;
}

// ---------------------------------------------------------------- stream-json

function createClaudeParser(): (line: string) => AgentEvent[] {
  /** Each API response arrives as one `assistant` line per content block: count its usage once. */
  const messagesWithUsage = new Set<string>();
  /**
   * API failures show up twice: a synthetic assistant message, then the result with the HTTP status.
   * Report them once, unless the result knows a status the message text did not show.
   */
  const reportedFailures = new Map<string, number | null>();
  let sessionModel: string | null = null;

  function system(json: JsonObject, line: string): AgentEvent[] {
    const subtype = stringField(json, 'subtype');
    const sessionId = stringField(json, 'session_id');
    if (subtype === 'init' && sessionId !== null) {
      sessionModel = stringField(json, 'model');
      const tools = arrayField(json, 'tools').filter((tool): tool is string => typeof tool === 'string');
      return [{ type: 'session_started', sessionId, model: sessionModel, cwd: stringField(json, 'cwd'), tools }];
    }
    const status = numberField(json, 'error_status');
    if (subtype === 'api_retry' && (status === 429 || stringField(json, 'error') === 'rate_limit')) {
      const delay = numberField(json, 'retry_delay_ms');
      const message = `rate limited (HTTP ${status ?? 429}), retry ${numberField(json, 'attempt') ?? '?'} of ${numberField(json, 'max_retries') ?? '?'}`;
      return [{ type: 'rate_limit', message, retryAfterMs: delay === null ? null : Math.round(delay) }];
    }
    return [unparsed(line)];
  }

  function assistant(json: JsonObject, line: string): AgentEvent[] {
    const message = objectField(json, 'message');
    const blocks = arrayField(message, 'content').map(asObject);
    if (stringField(json, 'error') !== null) {
      // A synthetic message standing in for a failed API call ("API Error: 529 …"): an error, not prose.
      const text = blocks.map((block) => stringField(block, 'text') ?? '').join('\n').trim();
      if (text === '') return [unparsed(line)];
      const status = statusInText(text);
      reportedFailures.set(text, status);
      return failureEvents(text, status);
    }
    const events: AgentEvent[] = [];
    for (const block of blocks) {
      const type = stringField(block, 'type');
      if (type === 'text') {
        const text = stringField(block, 'text');
        if (text) events.push({ type: 'assistant_text', text });
      } else if (type === 'tool_use') {
        events.push({ type: 'tool_call', id: stringField(block, 'id'), name: stringField(block, 'name') ?? 'unknown', input: block?.input ?? null });
      } else if (type !== 'thinking' && type !== 'redacted_thinking') {
        return [unparsed(line)];
      }
    }
    const id = stringField(message, 'id');
    const usage = objectField(message, 'usage');
    if (id !== null && usage !== null && !messagesWithUsage.has(id)) {
      messagesWithUsage.add(id);
      events.push({ type: 'usage', ...tokenCounts(usage), model: stringField(message, 'model'), cumulative: false });
    }
    return events;
  }

  function result(json: JsonObject): AgentEvent[] {
    const subtype = stringField(json, 'subtype');
    const isError = json.is_error === true;
    const text = stringField(json, 'result');
    const events: AgentEvent[] = [{ type: 'usage', ...finalUsage(json, sessionModel), cumulative: true }];
    const cost = numberField(json, 'total_cost_usd');
    if (cost !== null) events.push({ type: 'cost', usd: cost, cumulative: true });

    const detail = arrayField(json, 'errors').filter((e): e is string => typeof e === 'string').join('; ');
    if (subtype === 'error_max_turns') {
      events.push({ type: 'error', kind: 'max_turns', message: detail || 'reached the maximum number of turns', status: null });
    } else if (subtype === 'error_max_budget_usd') {
      events.push({ type: 'error', kind: 'budget', message: detail || 'reached the maximum budget', status: null });
    } else if (subtype !== null && subtype !== 'success') {
      events.push({ type: 'error', kind: 'other', message: detail || subtype, status: null });
    } else if (isError) {
      const message = text ?? (detail || 'the CLI reported an error');
      const status = numberField(json, 'api_error_status');
      const alreadyReported = reportedFailures.has(message) && (status === null || reportedFailures.get(message) === status);
      if (!alreadyReported) events.push(...failureEvents(message, status));
    }
    events.push({ type: 'result', ok: subtype === 'success' && !isError, text, subtype, turns: numberField(json, 'num_turns') });
    return events;
  }

  return tolerant((line) => {
    const json = parseJsonObject(line);
    switch (stringField(json, 'type')) {
      case 'system':
        return system(json!, line);
      case 'assistant':
        return assistant(json!, line);
      case 'user':
        return toolResults(json!);
      case 'result':
        return result(json!);
      default:
        return [unparsed(line)];
    }
  });
}

/** `user` lines carry tool results back to the model; other user content is the CLI's echo. */
function toolResults(json: JsonObject): AgentEvent[] {
  const events: AgentEvent[] = [];
  for (const block of arrayField(objectField(json, 'message'), 'content').map(asObject)) {
    if (stringField(block, 'type') !== 'tool_result') continue;
    events.push({ type: 'tool_result', id: stringField(block, 'tool_use_id'), output: toolOutput(block?.content), isError: block?.is_error === true });
  }
  return events;
}

/** Tool output is a string or a list of content blocks (text, images). */
function toolOutput(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map(asObject)
    .map((block) => stringField(block, 'text') ?? `[${stringField(block, 'type') ?? 'content'}]`)
    .join('\n');
}

function tokenCounts(usage: JsonObject | null) {
  return {
    inputTokens: countField(usage, 'input_tokens'),
    outputTokens: countField(usage, 'output_tokens'),
    cacheReadTokens: countField(usage, 'cache_read_input_tokens'),
    cacheWriteTokens: countField(usage, 'cache_creation_input_tokens'),
  };
}

/**
 * The run's totals from the result line. `modelUsage` (per model) is preferred: when a run stops at
 * its budget, `usage` reads all zeros while `modelUsage` has the real counts.
 */
function finalUsage(json: JsonObject, sessionModel: string | null) {
  const perModel = objectField(json, 'modelUsage');
  const models = perModel === null ? [] : Object.keys(perModel);
  if (perModel === null || models.length === 0) return { ...tokenCounts(objectField(json, 'usage')), model: sessionModel };
  const totals = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  for (const model of models) {
    const counts = objectField(perModel, model);
    totals.inputTokens += countField(counts, 'inputTokens');
    totals.outputTokens += countField(counts, 'outputTokens');
    totals.cacheReadTokens += countField(counts, 'cacheReadInputTokens');
    totals.cacheWriteTokens += countField(counts, 'cacheCreationInputTokens');
  }
  return { ...totals, model: models.length === 1 ? models[0]! : sessionModel };
}
