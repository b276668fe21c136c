// Any program as an agent: `agent.command` with `agent.args`. The prompt reaches it on stdin and in a
// file whose path is in ORCH_PROMPT_FILE (inside the run's private HOME), never as an argument: Linux
// refuses an argument over 128 KiB, and a task's prompt can be longer. `{prompt_file}` in the args
// becomes that path; `{prompt}` still becomes the prompt itself, for programs that only take it as an
// argument, and so is limited by that size. Its output is free text (each line an assistant_text),
// except lines that are AgentEvents in JSON, which are taken as they are — so a wrapper script can
// report sessions, usage, cost and a result of its own.
// The model, if any, is passed as ORCH_MODEL. No budget, turn limit or resume: Orch enforces the limits.

import { z } from 'zod';
import type { AgentAdapter, AgentConfig, AgentEvent, AgentInvocation, RunSpec } from './agent.js';
import { inRunHome, modelFor, promptWithInstructions, runEnvironment } from './invocation-helpers.js';
import { parseJsonObject, tolerant } from './stream-helpers.js';

export const PROMPT_PLACEHOLDER = '{prompt}';
export const PROMPT_FILE_PLACEHOLDER = '{prompt_file}';
/** Relative to the run's home. */
const PROMPT_FILE = 'prompt.md';

export const commandAdapter: AgentAdapter = {
  kind: 'command',
  // An arbitrary program has no known way to print its version.
  versionArgs: [],
  reportsResult: false,
  resumes: false,
  invocation: commandInvocation,
  createParser: createCommandParser,
};

function commandInvocation(spec: RunSpec, agent: AgentConfig): AgentInvocation {
  const prompt = promptWithInstructions(spec);
  const promptFile = inRunHome(spec, PROMPT_FILE);
  // Replacer functions, so `$&` and friends in the prompt stay literal.
  const args = agent.args.map((arg) => arg.replaceAll(PROMPT_FILE_PLACEHOLDER, () => promptFile).replaceAll(PROMPT_PLACEHOLDER, () => prompt));
  const model = modelFor(spec, agent);
  const env = runEnvironment(spec, agent, {}, { HOME: spec.runHome, ORCH_PROMPT_FILE: promptFile, ...(model === null ? {} : { ORCH_MODEL: model }) });
  return { command: agent.command, args, env, files: [{ path: PROMPT_FILE, content: prompt }], stdin: prompt };
}

const count = z.number().int().min(0);
const nullableString = z.string().nullable();

/** The AgentEvent union as a schema: JSON lines that match it are events, anything else is text. */
const agentEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session_started'), sessionId: z.string(), model: nullableString.default(null), cwd: nullableString.default(null), tools: z.array(z.string()).default([]) }),
  z.object({ type: z.literal('assistant_text'), text: z.string() }),
  z.object({ type: z.literal('tool_call'), id: nullableString.default(null), name: z.string(), input: z.unknown() }),
  z.object({ type: z.literal('tool_result'), id: nullableString.default(null), output: z.string(), isError: z.boolean().default(false) }),
  z.object({
    type: z.literal('usage'),
    inputTokens: count,
    outputTokens: count,
    cacheReadTokens: count.default(0),
    cacheWriteTokens: count.default(0),
    model: nullableString.default(null),
    cumulative: z.boolean(),
  }),
  z.object({ type: z.literal('cost'), usd: z.number().min(0), cumulative: z.boolean() }),
  z.object({ type: z.literal('rate_limit'), message: z.string(), retryAfterMs: z.number().min(0).nullable().default(null) }),
  z.object({
    type: z.literal('error'),
    kind: z.enum(['api', 'auth', 'max_turns', 'budget', 'rate_limit', 'other']),
    message: z.string(),
    status: z.number().int().nullable().default(null),
  }),
  z.object({ type: z.literal('result'), ok: z.boolean(), text: nullableString.default(null), subtype: nullableString.default(null), turns: count.nullable().default(null) }),
]);

function createCommandParser(): (line: string) => AgentEvent[] {
  return tolerant((line) => {
    const json = parseJsonObject(line);
    if (json !== null) {
      const event = agentEventSchema.safeParse(json);
      if (event.success) return [event.data];
    }
    return [{ type: 'assistant_text', text: line.replace(/\r$/, '') }];
  });
}
