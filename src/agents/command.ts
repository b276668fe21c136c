// Any program as an agent: `agent.command` with `agent.args`, the prompt replacing a `{prompt}`
// placeholder in them or, when there is none, appended as the last argument. Its output is free text
// (each line an assistant_text), except lines that are AgentEvents in JSON, which are taken as they are —
// so a wrapper script can report sessions, usage, cost and a result of its own.
// The model, if any, is passed as ORCH_MODEL. No budget, turn limit or resume: Orch enforces the limits.

import { z } from 'zod';
import type { AgentAdapter, AgentConfig, AgentEvent, AgentInvocation, RunSpec } from './agent.js';
import { modelFor, promptWithInstructions, runEnvironment } from './invocation-helpers.js';
import { parseJsonObject, tolerant } from './stream-helpers.js';

export const PROMPT_PLACEHOLDER = '{prompt}';

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
  const hasPlaceholder = agent.args.some((arg) => arg.includes(PROMPT_PLACEHOLDER));
  // A replacer function, so `$&` and friends in the prompt stay literal.
  const args = hasPlaceholder ? agent.args.map((arg) => arg.replaceAll(PROMPT_PLACEHOLDER, () => prompt)) : [...agent.args, prompt];
  const model = modelFor(spec, agent);
  const env = runEnvironment(spec, agent, {}, { HOME: spec.runHome, ...(model === null ? {} : { ORCH_MODEL: model }) });
  return { command: agent.command, args, env, files: [] };
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
