// What every adapter's invocation shares: the model to ask for, the environment layering, and the
// prompt for CLIs that cannot take extra system instructions.

import { join } from 'node:path';
import type { AgentConfig, RunSpec } from './agent.js';

/** The run's model, else the agent config's, else null (the CLI's own default). */
export const modelFor = (spec: RunSpec, agent: AgentConfig): string | null => spec.model ?? agent.model;

/** A path inside the run's private directory. */
export const inRunHome = (spec: RunSpec, ...parts: string[]): string => join(spec.runHome, ...parts);

/**
 * The environment of a run, later layers winning:
 * 1. `quiet` — the adapter's defaults that stop non-essential traffic (a user may switch them back on);
 * 2. the agent config's literal `NAME=value` entries (the supervisor normally put them in spec.env already);
 * 3. `spec.env` — the scrubbed base environment with provider URLs and keys;
 * 4. PWD = the worktree: OpenCode takes its project directory from PWD before process.cwd(), so an
 *    inherited PWD would point it at Orch's own directory;
 * 5. `isolation` — HOME and the CLI's config dirs inside runHome, which nothing may override, so
 *    runs never share sessions, credentials or caches.
 */
export function runEnvironment(
  spec: RunSpec,
  agent: AgentConfig,
  quiet: Record<string, string>,
  isolation: Record<string, string>,
): Record<string, string> {
  return { ...quiet, ...literalEntries(agent.env), ...spec.env, PWD: spec.cwd, ...isolation };
}

function literalEntries(entries: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return env;
}

/**
 * The prompt for CLIs without a way to append to their system prompt: the instructions go first, in a
 * clearly delimited section, so the agent can tell Orch's standing rules from the task itself.
 */
export function promptWithInstructions(spec: RunSpec): string {
  if (spec.systemPromptAppend === null || spec.systemPromptAppend.trim() === '') return spec.prompt;
  return [
    '<orch-instructions>',
    spec.systemPromptAppend.trim(),
    '</orch-instructions>',
    '',
    '<task>',
    spec.prompt,
    '</task>',
  ].join('\n');
}

/** `Name(pattern)` tool rules (Claude's syntax, also accepted for OpenCode) split into their parts. */
export function splitToolRule(rule: string): { tool: string; pattern: string | null } {
  const match = /^([^()]+)\((.*)\)$/s.exec(rule.trim());
  return match ? { tool: match[1]!.trim(), pattern: match[2]! } : { tool: rule.trim(), pattern: null };
}
