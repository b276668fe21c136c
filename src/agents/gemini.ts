// Gemini CLI, headless: `gemini --output-format stream-json --skip-trust …`, the prompt on stdin (a
// piped stdin without --prompt runs headless).
// Flags, environment and event format as measured on the pinned CLI (test/fixtures/agent-streams/).
//
// Provider: GEMINI_API_KEY and GOOGLE_GEMINI_BASE_URL pass through from the run's environment.
// Resume: `--resume ID` (Gemini keeps sessions per project; not measured on this machine).
// No budget flag: Orch enforces budgets. Max turns become the `model.maxSessionTurns` setting.

import type { AgentAdapter, AgentConfig, AgentEvent, AgentInvocation, PermissionMode, RunSpec } from './agent.js';
import { modelFor, promptWithInstructions, runEnvironment } from './invocation-helpers.js';
import {
  type JsonObject,
  countField,
  failureEvents,
  numberField,
  objectField,
  parseJsonObject,
  stringField,
  tolerant,
  unparsed,
} from './stream-helpers.js';

/**
 * Headless Gemini refuses tools that would need a confirmation, so the approval mode is the policy:
 * default (read and search only), auto_edit (file edits too), yolo (everything).
 */
const APPROVAL_MODE: Record<PermissionMode, string> = { 'read-only': 'default', edit: 'auto_edit', full: 'yolo' };

export const geminiAdapter: AgentAdapter = {
  kind: 'gemini',
  versionArgs: ['--version'],
  reportsResult: true,
  // `--resume ID` exists, but resuming from a run's copied HOME is not verified with this CLI yet.
  resumes: false,
  invocation: geminiInvocation,
  createParser: createGeminiParser,
};

function geminiInvocation(spec: RunSpec, agent: AgentConfig): AgentInvocation {
  const { tools } = spec;
  // --skip-trust: in an untrusted folder Gemini forces the approval mode back to default.
  const args = ['--output-format', 'stream-json', '--skip-trust', '--approval-mode', APPROVAL_MODE[tools.mode]];
  const model = modelFor(spec, agent);
  if (model !== null) args.push('--model', model);
  if (tools.mode !== 'read-only' && tools.writableDirs.length > 0) args.push('--include-directories', tools.writableDirs.join(','));
  for (const tool of tools.mode === 'full' ? [] : tools.allowedTools) args.push('--allowed-tools', tool);
  if (spec.resumeSessionId !== null) args.push('--resume', spec.resumeSessionId);
  args.push(...agent.args);

  const env = runEnvironment(spec, agent, { GEMINI_TELEMETRY_ENABLED: 'false' }, { HOME: spec.runHome });
  return { command: agent.command, args, env, files: [{ path: '.gemini/settings.json', content: settingsJson(spec) }], stdin: promptWithInstructions(spec) };
}

/** ~/.gemini/settings.json inside runHome: API-key auth (else exit 41), no telemetry, the run's limits. */
function settingsJson(spec: RunSpec): string {
  const settings: JsonObject = {
    security: { auth: { selectedType: 'gemini-api-key' } },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    // An agent run must not update itself or phone home mid-task.
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
  };
  if (spec.tools.deniedTools.length > 0) settings.tools = { exclude: spec.tools.deniedTools };
  if (spec.maxTurns !== null) settings.model = { maxSessionTurns: spec.maxTurns };
  return `${JSON.stringify(settings, null, 2)}\n`;
}

// ---------------------------------------------------------------- stream-json

function createGeminiParser(): (line: string) => AgentEvent[] {
  let sessionModel: string | null = null;
  let lastText: string | null = null;
  /**
   * Assistant text streams as `delta` fragments ("DONE: create", "d hello.txt"). They are joined and
   * reported as one text when the next other event arrives, so a fenced result block is never split.
   */
  let pendingText = '';

  function flush(): AgentEvent[] {
    if (pendingText === '') return [];
    lastText = pendingText;
    pendingText = '';
    return [{ type: 'assistant_text', text: lastText }];
  }

  function message(json: JsonObject): AgentEvent[] {
    const content = stringField(json, 'content') ?? '';
    if (stringField(json, 'role') !== 'assistant') return flush();
    if (json.delta === true) {
      pendingText += content;
      return [];
    }
    pendingText += content;
    return flush();
  }

  function result(json: JsonObject): AgentEvent[] {
    const stats = objectField(json, 'stats');
    const status = stringField(json, 'status');
    const events: AgentEvent[] = [...flush(), { type: 'usage', ...usage(stats, sessionModel), cumulative: true }];
    const error = objectField(json, 'error');
    if (status !== 'success') {
      events.push(...failureEvents(stringField(error, 'message') ?? `the run ended with status ${status ?? 'unknown'}`, numberField(error, 'status')));
    }
    events.push({ type: 'result', ok: status === 'success', text: lastText, subtype: status, turns: null });
    return events;
  }

  return tolerant((line) => {
    const json = parseJsonObject(line);
    switch (stringField(json, 'type')) {
      case 'init': {
        const sessionId = stringField(json, 'session_id');
        if (sessionId === null) return [unparsed(line)];
        sessionModel = stringField(json, 'model');
        return [{ type: 'session_started', sessionId, model: sessionModel, cwd: null, tools: [] }];
      }
      case 'message':
        return message(json!);
      case 'tool_use':
        return [
          ...flush(),
          { type: 'tool_call', id: stringField(json, 'tool_id'), name: stringField(json, 'tool_name') ?? 'unknown', input: json!.parameters ?? null },
        ];
      case 'tool_result': {
        const failed = stringField(json, 'status') !== 'success';
        const output = stringField(json, 'output') ?? stringField(objectField(json, 'error'), 'message') ?? '';
        return [...flush(), { type: 'tool_result', id: stringField(json, 'tool_id'), output, isError: failed }];
      }
      case 'error':
        // Gemini's error events are warnings; whether the run failed shows in `result` and the exit code.
        return [...flush(), ...failureEvents(stringField(json, 'message') ?? 'unknown error', null)];
      case 'result':
        return result(json!);
      default:
        return [...flush(), unparsed(line)];
    }
  });
}

/** Gemini's input count includes the cached part; `input` (when present) is the uncached rest. */
function usage(stats: JsonObject | null, sessionModel: string | null) {
  const cached = countField(stats, 'cached');
  const uncached = numberField(stats, 'input');
  const models = Object.keys(objectField(stats, 'models') ?? {});
  return {
    inputTokens: uncached !== null ? Math.max(0, uncached) : Math.max(0, countField(stats, 'input_tokens') - cached),
    outputTokens: countField(stats, 'output_tokens'),
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
    model: models.length === 1 ? models[0]! : sessionModel,
  };
}
