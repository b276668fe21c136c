// OpenCode, headless: `opencode run --format json …` with the prompt on stdin, configured entirely through
// OPENCODE_CONFIG_CONTENT so the worktree stays clean. Format as measured on the pinned
// CLI (test/fixtures/agent-streams/).
//
// Provider convention: when the run's environment has ORCH_OPENCODE_BASE_URL, the model's provider
// (the part of `provider/model` before the slash, default `anthropic`) gets that baseURL. Keys come from
// the provider's usual variable (ANTHROPIC_API_KEY, …). An OPENCODE_CONFIG_CONTENT already in the
// environment is kept and merged under Orch's settings (Orch's permissions always win).
// Resume: `--session ID` continues an OpenCode session. No budget or max-turns flag: Orch enforces them.

import type { AgentAdapter, AgentConfig, AgentEvent, AgentInvocation, RunSpec, ToolPolicy } from './agent.js';
import { inRunHome, modelFor, promptWithInstructions, runEnvironment, splitToolRule } from './invocation-helpers.js';
import {
  type JsonObject,
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

export const opencodeAdapter: AgentAdapter = {
  kind: 'opencode',
  versionArgs: ['--version'],
  reportsResult: true,
  // `--session ID` exists, but resuming from a run's copied HOME is not verified with this CLI yet.
  resumes: false,
  invocation: opencodeInvocation,
  createParser: createOpencodeParser,
};

/** Switches off update checks, model-list downloads, default plugins, LSP downloads and sharing. */
const QUIET_ENV = {
  OPENCODE_DISABLE_MODELS_FETCH: '1',
  OPENCODE_DISABLE_AUTOUPDATE: '1',
  OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
  OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
  OPENCODE_DISABLE_SHARE: '1',
};

function opencodeInvocation(spec: RunSpec, agent: AgentConfig): AgentInvocation {
  const model = modelFor(spec, agent);
  const base = runEnvironment(spec, agent, QUIET_ENV, {});
  const config: JsonObject = {
    ...(parseJsonObject(base.OPENCODE_CONFIG_CONTENT ?? '') ?? {}),
    share: 'disabled',
    autoupdate: false,
    permission: permissionRules(spec.tools),
  };
  const provider = providerConfig(config.provider, base.ORCH_OPENCODE_BASE_URL, model);
  // Isolation last: nothing in the base environment may override it.
  const env = {
    ...base,
    HOME: spec.runHome,
    XDG_CONFIG_HOME: inRunHome(spec, '.config'),
    XDG_DATA_HOME: inRunHome(spec, '.local', 'share'),
    XDG_STATE_HOME: inRunHome(spec, '.local', 'state'),
    XDG_CACHE_HOME: inRunHome(spec, '.cache'),
    OPENCODE_CONFIG_CONTENT: JSON.stringify(provider === null ? config : { ...config, provider }),
  };

  const args = ['run', '--format', 'json'];
  if (model !== null) args.push('--model', model);
  if (spec.resumeSessionId !== null) args.push('--session', spec.resumeSessionId);
  // No message argument: `opencode run` then takes the message from stdin as it is, where an argument
  // would be wrapped in quotes (and a one-word one coerced to a number).
  args.push(...agent.args);
  return { command: agent.command, args, env, files: [], stdin: promptWithInstructions(spec) };
}

type Action = 'allow' | 'deny';
type Rule = Action | Record<string, Action>;

/**
 * Orch's permission model as OpenCode `permission` rules. Never "ask": headless, nobody answers.
 * - read-only: no edits, no shell, nothing outside the worktree;
 * - edit: edits allowed, shell only where allowedTools says (e.g. `bash(npm test*)`), writableDirs reachable;
 * - full: everything.
 * allowedTools / deniedTools use OpenCode's permission keys, optionally with a pattern: `bash`,
 * `bash(git *)`, `webfetch`. Denials come last, and in OpenCode the last matching rule wins.
 */
export function permissionRules(tools: ToolPolicy): Record<string, Rule> {
  const rules: Record<string, Rule> =
    tools.mode === 'full'
      ? { '*': 'allow' }
      : { '*': 'allow', edit: tools.mode === 'edit' ? 'allow' : 'deny', bash: 'deny', external_directory: 'deny' };
  if (tools.mode === 'edit' && tools.writableDirs.length > 0) {
    rules.external_directory = { '*': 'deny', ...Object.fromEntries(tools.writableDirs.map((dir) => [`${dir.replace(/\/+$/, '')}/**`, 'allow' as const])) };
  }
  for (const rule of tools.allowedTools) addRule(rules, rule, 'allow');
  for (const rule of tools.deniedTools) addRule(rules, rule, 'deny');
  return rules;
}

function addRule(rules: Record<string, Rule>, rule: string, action: Action): void {
  const { tool, pattern } = splitToolRule(rule);
  const key = tool.toLowerCase();
  if (pattern === null) {
    rules[key] = action;
    return;
  }
  const current = rules[key] ?? rules['*'] ?? 'allow';
  const patterns: Record<string, Action> = typeof current === 'string' ? { '*': current } : { ...current };
  patterns[pattern] = action;
  rules[key] = patterns;
}

function providerConfig(existing: unknown, baseUrl: string | undefined, model: string | null): JsonObject | null {
  if (baseUrl === undefined || baseUrl === '') return asObject(existing);
  const providerId = model !== null && model.includes('/') ? model.slice(0, model.indexOf('/')) : 'anthropic';
  const providers = asObject(existing) ?? {};
  const provider = asObject(providers[providerId]) ?? {};
  return { ...providers, [providerId]: { ...provider, options: { ...asObject(provider.options), baseURL: baseUrl } } };
}

// ---------------------------------------------------------------- run --format json

function createOpencodeParser(): (line: string) => AgentEvent[] {
  let sessionAnnounced = false;
  let lastText: string | null = null;

  function stepStart(json: JsonObject): AgentEvent[] {
    if (sessionAnnounced) return [];
    const sessionId = stringField(json, 'sessionID') ?? stringField(objectField(json, 'part'), 'sessionID');
    if (sessionId === null) return [];
    sessionAnnounced = true;
    return [{ type: 'session_started', sessionId, model: null, cwd: null, tools: [] }];
  }

  /** Tokens and cost are the step's own, so they add up. No result event exists: a `stop` step ends the run. */
  function stepFinish(part: JsonObject | null): AgentEvent[] {
    const tokens = objectField(part, 'tokens');
    const cache = objectField(tokens, 'cache');
    const events: AgentEvent[] = [
      {
        type: 'usage',
        inputTokens: countField(tokens, 'input'),
        outputTokens: countField(tokens, 'output') + countField(tokens, 'reasoning'),
        cacheReadTokens: countField(cache, 'read'),
        cacheWriteTokens: countField(cache, 'write'),
        model: null,
        cumulative: false,
      },
    ];
    const cost = numberField(part, 'cost');
    if (cost !== null) events.push({ type: 'cost', usd: cost, cumulative: false });
    if (stringField(part, 'reason') === 'stop') events.push({ type: 'result', ok: true, text: lastText, subtype: 'stop', turns: null });
    return events;
  }

  return tolerant((line) => {
    const json = parseJsonObject(line);
    const part = objectField(json, 'part');
    switch (stringField(json, 'type')) {
      case 'step_start':
        return stepStart(json!);
      case 'text': {
        const text = stringField(part, 'text');
        if (!text) return [];
        lastText = text;
        return [{ type: 'assistant_text', text }];
      }
      case 'reasoning':
        return [];
      case 'tool_use':
        return toolUse(part);
      case 'step_finish':
        return stepFinish(part);
      case 'error': {
        const error = objectField(json, 'error');
        const data = objectField(error, 'data');
        const message = stringField(data, 'message') ?? stringField(error, 'message') ?? stringField(error, 'name') ?? 'unknown error';
        return failureEvents(message, numberField(data, 'statusCode'));
      }
      default:
        return [unparsed(line)];
    }
  });
}

/** A finished tool use: its call and, once it completed or failed, its result. */
function toolUse(part: JsonObject | null): AgentEvent[] {
  const state = objectField(part, 'state');
  const id = stringField(part, 'callID');
  const events: AgentEvent[] = [{ type: 'tool_call', id, name: stringField(part, 'tool') ?? 'unknown', input: state?.input ?? null }];
  const status = stringField(state, 'status');
  if (status === 'completed') events.push({ type: 'tool_result', id, output: stringField(state, 'output') ?? '', isError: false });
  if (status === 'error') events.push({ type: 'tool_result', id, output: stringField(state, 'error') ?? '', isError: true });
  return events;
}
