import type { AgentEvent } from '../agents/agent.js';

/**
 * Characters of one field an `agent.*` event row keeps. The agent's output is stored once, whole, in
 * the run's `agent.jsonl`; the event row carries what the live views need (the start of a long text
 * or tool output) and the line of `agent.jsonl` it came from.
 */
export const EVENT_FIELD_LIMIT = 1000;

/** An agent event as its event row stores it: long fields cut, `cut` saying by how much, `logLine` where the whole is. */
export function agentEventRecord(event: AgentEvent, logLine: number): Record<string, unknown> {
  const data: Record<string, unknown> = { ...event, logLine };
  const cut: Record<string, number> = {};
  for (const field of ['text', 'output', 'message'] as const) {
    const value = data[field];
    if (typeof value === 'string' && value.length > EVENT_FIELD_LIMIT) {
      data[field] = value.slice(0, EVENT_FIELD_LIMIT);
      cut[field] = value.length - EVENT_FIELD_LIMIT;
    }
  }
  if (event.type === 'tool_call') {
    const input = JSON.stringify(event.input ?? null);
    if (input.length > EVENT_FIELD_LIMIT) {
      data.input = input.slice(0, EVENT_FIELD_LIMIT);
      cut.input = input.length - EVENT_FIELD_LIMIT;
    }
  }
  if (Object.keys(cut).length > 0) data.cut = cut;
  return data;
}
