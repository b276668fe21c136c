// Codex, headless: `codex exec --json … -`, or `codex exec --json … resume THREAD -`: `-` reads the
// prompt from stdin.
// Flags, environment and event format as measured on the pinned CLI (test/fixtures/agent-streams/).
//
// Provider convention: when the run's environment has ORCH_CODEX_BASE_URL, Codex talks to that
// OpenAI-compatible Responses endpoint (e.g. http://127.0.0.1:PORT/v1) as provider "orch", with the API
// key read from the variable named by ORCH_CODEX_API_KEY_ENV (default OPENAI_API_KEY). Optional
// ORCH_CODEX_MAX_RETRIES sets its request and stream retries (0 makes tests against a failing fake
// server fast). Without ORCH_CODEX_BASE_URL, Codex uses its own default provider.

import { join } from 'node:path';
import type { AgentAdapter, AgentConfig, AgentEvent, AgentInvocation, PermissionMode, RunSpec } from './agent.js';
import { savedTranscript } from './saved-session.js';
import { inRunHome, modelFor, promptWithInstructions, runEnvironment } from './invocation-helpers.js';
import {
  type JsonObject,
  arrayField,
  asObject,
  countField,
  failureEvents,
  numberField,
  objectField,
  parseJsonObject,
  stringField,
  tolerant,
  unparsed,
} from './stream-helpers.js';

export const CODEX_PROVIDER_ID = 'orch';

const SANDBOX: Record<PermissionMode, string> = {
  'read-only': 'read-only',
  edit: 'workspace-write',
  full: 'danger-full-access',
};

export const codexAdapter: AgentAdapter = {
  kind: 'codex',
  versionArgs: ['--version'],
  reportsResult: true,
  resumes: true,
  // Rollouts live in CODEX_HOME/sessions/<year>/<month>/<day>/rollout-<time>-<thread>.jsonl.
  savedSession: (runHome, sessionId) => savedTranscript(join(runHome, '.codex', 'sessions'), sessionId, 3),
  invocation: codexInvocation,
  createParser: createCodexParser,
};

/** `-c` values are TOML; a JSON string or array of strings is valid TOML. */
const toml = (value: string | string[]) => JSON.stringify(value);

function codexInvocation(spec: RunSpec, agent: AgentConfig): AgentInvocation {
  const env = runEnvironment(spec, agent, {}, { HOME: spec.runHome, CODEX_HOME: inRunHome(spec, '.codex') });
  const sandbox = spec.sandboxed ? 'danger-full-access' : SANDBOX[spec.tools.mode];
  // Codex has no allow/deny lists for tools: the sandbox mode is the whole policy.
  const args = ['exec', '--json', '-s', sandbox, '--disable', 'plugins', '-c', 'analytics.enabled=false'];
  if (spec.tools.mode === 'edit' && spec.tools.writableDirs.length > 0) {
    args.push('-c', `sandbox_workspace_write.writable_roots=${toml(spec.tools.writableDirs)}`);
  }
  const model = modelFor(spec, agent);
  if (model !== null) args.push('-m', model);
  args.push(...providerArgs(env), ...agent.args);
  // Exec-level options must come before `resume`, which rejects -s; the sandbox is repeated as a
  // config value so the resumed thread cannot fall back to the mode it was recorded with.
  if (spec.resumeSessionId !== null) {
    args.push('-c', `sandbox_mode=${toml(sandbox)}`, 'resume', spec.resumeSessionId);
  }
  args.push('-');
  // CODEX_HOME must exist before Codex starts; settings travel as -c flags, not in this file.
  const files = [{ path: '.codex/config.toml', content: '# Written by Orch for one run; settings are passed as -c flags.\n' }];
  return { command: agent.command, args, env, files, stdin: promptWithInstructions(spec) };
}

function providerArgs(env: Record<string, string>): string[] {
  const baseUrl = env.ORCH_CODEX_BASE_URL;
  if (baseUrl === undefined || baseUrl === '') return [];
  const provider = `model_providers.${CODEX_PROVIDER_ID}`;
  const args = [
    '-c', `model_provider=${toml(CODEX_PROVIDER_ID)}`,
    '-c', `${provider}.name=${toml(CODEX_PROVIDER_ID)}`,
    '-c', `${provider}.base_url=${toml(baseUrl)}`,
    '-c', `${provider}.env_key=${toml(env.ORCH_CODEX_API_KEY_ENV || 'OPENAI_API_KEY')}`,
    '-c', `${provider}.wire_api="responses"`,
  ];
  const retries = env.ORCH_CODEX_MAX_RETRIES;
  if (retries !== undefined && /^\d+$/.test(retries)) {
    args.push('-c', `${provider}.request_max_retries=${retries}`, '-c', `${provider}.stream_max_retries=${retries}`);
  }
  return args;
}

// ---------------------------------------------------------------- exec --json

/** Codex warns about unknown model names as an `error` item, yet runs fine: not a failure. */
const BENIGN_ITEM_ERROR = /^Model metadata for .* not found/;

function createCodexParser(): (line: string) => AgentEvent[] {
  /** Tool-like items announced by item.started, so item.completed does not announce them again. */
  const announced = new Set<string>();
  let lastAgentMessage: string | null = null;
  let lastErrorMessage: string | null = null;

  function itemEvents(json: JsonObject, line: string, completed: boolean): AgentEvent[] {
    const item = objectField(json, 'item');
    const type = stringField(item, 'type');
    if (type === 'agent_message') {
      if (!completed) return [];
      lastAgentMessage = stringField(item, 'text') ?? '';
      return lastAgentMessage === '' ? [] : [{ type: 'assistant_text', text: lastAgentMessage }];
    }
    if (type === 'reasoning' || type === 'todo_list') return [];
    if (type === 'error') {
      const message = stringField(item, 'message') ?? '';
      if (!completed || BENIGN_ITEM_ERROR.test(message)) return [unparsed(line)];
      return failureEvents(message, null);
    }
    const call = toolCall(item);
    if (call === null) return [unparsed(line)];
    const events: AgentEvent[] = [];
    const id = stringField(item, 'id');
    if (id === null || !announced.has(id)) events.push(call);
    if (id !== null) announced.add(id);
    if (completed) events.push(toolResult(item, id));
    return events;
  }

  function turnFailed(json: JsonObject): AgentEvent[] {
    const message = stringField(objectField(json, 'error'), 'message') ?? 'the turn failed';
    const events = message === lastErrorMessage ? [] : failureEvents(message, null);
    return [...events, { type: 'result', ok: false, text: message, subtype: 'turn.failed', turns: null }];
  }

  return tolerant((line) => {
    const json = parseJsonObject(line);
    switch (stringField(json, 'type')) {
      case 'thread.started': {
        const sessionId = stringField(json, 'thread_id');
        return sessionId === null ? [unparsed(line)] : [{ type: 'session_started', sessionId, model: null, cwd: null, tools: [] }];
      }
      case 'turn.started':
      case 'item.updated':
        return [];
      case 'item.started':
        return itemEvents(json!, line, false);
      case 'item.completed':
        return itemEvents(json!, line, true);
      case 'turn.completed':
        // One exec runs one turn: its completion is the run's result.
        return [usageEvent(objectField(json, 'usage')), { type: 'result', ok: true, text: lastAgentMessage, subtype: null, turns: null }];
      case 'turn.failed':
        return turnFailed(json!);
      case 'error': {
        // Not necessarily fatal (Codex reports retries this way too): only turn.failed ends the run.
        lastErrorMessage = stringField(json, 'message') ?? 'unknown error';
        return failureEvents(lastErrorMessage, numberField(json, 'status'));
      }
      default:
        return [unparsed(line)];
    }
  });
}

function toolCall(item: JsonObject | null): AgentEvent | null {
  const id = stringField(item, 'id');
  switch (stringField(item, 'type')) {
    case 'command_execution':
      return { type: 'tool_call', id, name: 'shell', input: { command: stringField(item, 'command') } };
    case 'file_change':
      return { type: 'tool_call', id, name: 'apply_patch', input: { changes: arrayField(item, 'changes') } };
    case 'mcp_tool_call':
      return { type: 'tool_call', id, name: `${stringField(item, 'server') ?? 'mcp'}/${stringField(item, 'tool') ?? 'tool'}`, input: item?.arguments ?? null };
    case 'web_search':
      return { type: 'tool_call', id, name: 'web_search', input: { query: stringField(item, 'query') } };
    default:
      return null;
  }
}

function toolResult(item: JsonObject | null, id: string | null): AgentEvent {
  const status = stringField(item, 'status');
  const failed = status === 'failed' || status === 'declined';
  switch (stringField(item, 'type')) {
    case 'command_execution': {
      const exitCode = numberField(item, 'exit_code');
      return { type: 'tool_result', id, output: stringField(item, 'aggregated_output') ?? '', isError: failed || (exitCode !== null && exitCode !== 0) };
    }
    case 'file_change': {
      const changes = arrayField(item, 'changes').map(asObject);
      const output = changes.map((change) => `${stringField(change, 'kind') ?? 'change'} ${stringField(change, 'path') ?? ''}`).join('\n');
      return { type: 'tool_result', id, output, isError: failed };
    }
    default: {
      const error = stringField(objectField(item, 'error'), 'message');
      return { type: 'tool_result', id, output: error ?? JSON.stringify(item?.result ?? null), isError: failed || error !== null };
    }
  }
}

/**
 * Codex reports thread totals: cumulative. `input_tokens` includes the cached part, which is split out
 * so that inputTokens counts only uncached input, as for the other CLIs.
 */
function usageEvent(usage: JsonObject | null): AgentEvent {
  const cached = countField(usage, 'cached_input_tokens');
  return {
    type: 'usage',
    inputTokens: Math.max(0, countField(usage, 'input_tokens') - cached),
    outputTokens: countField(usage, 'output_tokens'),
    cacheReadTokens: cached,
    cacheWriteTokens: countField(usage, 'cache_write_input_tokens'),
    model: null,
    cumulative: true,
  };
}
