import type { AgentConfig, AgentKind, RunSpec, ToolPolicy } from '../../src/agents/agent.js';

export const RUN_HOME = '/orch/runs/7/home';

export function runSpec(overrides: Partial<Omit<RunSpec, 'tools'>> & { tools?: Partial<ToolPolicy> } = {}): RunSpec {
  const { tools, ...rest } = overrides;
  return {
    prompt: 'Fix the failing test',
    systemPromptAppend: null,
    model: null,
    tools: { mode: 'edit', allowedTools: [], deniedTools: [], writableDirs: [], ...tools },
    budgetUsd: null,
    maxTurns: null,
    resumeSessionId: null,
    cwd: '/orch/projects/api/worktrees/12',
    runHome: RUN_HOME,
    env: { PATH: '/usr/bin:/bin', ANTHROPIC_API_KEY: 'test-key' },
    ...rest,
  };
}

export function agentConfig(kind: AgentKind, overrides: Partial<AgentConfig> = {}): AgentConfig {
  return { name: kind, kind, command: `/opt/bin/${kind}`, model: null, maxConcurrent: 2, env: [], args: [], ...overrides };
}

/** The value after `flag` in argv (undefined when the flag is absent). */
export function flagValue(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at === -1 ? undefined : args[at + 1];
}

/** Every value given with a repeatable `flag` (e.g. codex `-c`). */
export function flagValues(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag && i + 1 < args.length ? [args[i + 1]!] : []));
}
