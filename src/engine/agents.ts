import { execFile } from 'node:child_process';
import { accessSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { agentBaseEnvironment } from '../agents/environment.js';
import { adapterFor } from '../agents/registry.js';
import { superviseRun, type RunReport } from '../agents/supervisor.js';
import type { AgentConfig } from '../config/schema.js';
import { OrchError } from '../core/errors.js';
import { findExecutable } from '../launcher/executables.js';
import { git } from '../workspace/git.js';
import type { Orch } from './context.js';

const run = promisify(execFile);

export interface AgentInfo {
  name: string;
  kind: AgentConfig['kind'];
  command: string;
  /** Where the executable was found, or null when it is not installed. */
  path: string | null;
  version: string | null;
  /** Projects whose `agents` list names it. */
  usedBy: string[];
  coolingUntil: number | null;
}

/** Every configured agent, whether its CLI is installed here, and its version. */
export async function listAgents(orch: Orch): Promise<AgentInfo[]> {
  const cooling = new Map((await orch.store.activeCooldowns(orch.now())).map((c) => [c.key, c.until]));
  return Promise.all(
    Object.values(orch.config.agents).map(async (agent) => {
      const path = findExecutable(agent.command);
      const versionArgs = adapterFor(agent.kind).versionArgs;
      let version: string | null = null;
      if (path && versionArgs.length > 0) {
        try {
          const { stdout } = await run(path, versionArgs, { timeout: 15_000 });
          version = stdout.trim().split('\n')[0] ?? null;
        } catch {
          version = null;
        }
      }
      return {
        name: agent.name,
        kind: agent.kind,
        command: agent.command,
        path,
        version,
        usedBy: Object.values(orch.config.projects).filter((p) => p.agents.includes(agent.name)).map((p) => p.name),
        coolingUntil: cooling.get(agent.name) ?? null,
      };
    }),
  );
}

export interface SmokeTestReport {
  agent: string;
  outcome: RunReport['outcome'];
  reason: string;
  durationMs: number;
  costUsd: number | null;
  events: Record<string, number>;
  /** Files the agent created or changed in the scratch repository (`git status --porcelain`). */
  changes: string[];
  fileWritten: boolean;
  directory: string | null;
}

const SMOKE_FILE = 'orch-smoke.txt';
const SMOKE_PROMPT = `Create a file named ${SMOKE_FILE} in the current directory containing the single word ok. Do nothing else, then say DONE.`;

/**
 * A real run of an agent in a scratch git repository, to check it is installed, authenticated and
 * able to edit files: what `orch agent test` reports.
 */
export async function smokeTestAgent(orch: Orch, name: string, options: { timeoutMs?: number; keep?: boolean; sourceEnv?: NodeJS.ProcessEnv } = {}): Promise<SmokeTestReport> {
  const agent = orch.config.agents[name];
  if (!agent) throw new OrchError('not_found', `agent "${name}" is not configured (see \`orch agents\`)`);
  const dir = mkdtempSync(join(tmpdir(), `orch-agent-test-${name}-`));
  try {
    const repo = join(dir, 'repo');
    await run('git', ['init', '-q', repo]);
    writeFileSync(join(repo, 'README.md'), '# scratch\n');
    const identity = ['-c', 'user.name=Orch', '-c', 'user.email=orch@localhost'];
    await git(repo, ['add', 'README.md']);
    await git(repo, [...identity, 'commit', '-q', '-m', 'scratch']);
    const events: Record<string, number> = {};
    const report = await superviseRun({
      adapter: adapterFor(agent.kind),
      agent,
      spec: {
        prompt: SMOKE_PROMPT,
        systemPromptAppend: null,
        model: null,
        tools: { mode: 'edit', allowedTools: [], deniedTools: [], writableDirs: [] },
        budgetUsd: 0.5,
        maxTurns: 5,
        resumeSessionId: null,
        cwd: repo,
        runHome: join(dir, 'home'),
        env: agentBaseEnvironment(options.sourceEnv ?? process.env, agent.env),
      },
      logPath: join(dir, 'agent.jsonl'),
      timeoutMs: options.timeoutMs ?? 180_000,
      stallMs: 120_000,
      budgetUsd: 0.5,
      prices: orch.config.prices,
      onEvent: (event) => {
        events[event.type] = (events[event.type] ?? 0) + 1;
      },
    });
    const changes = (await git(repo, ['status', '--porcelain'])).split('\n').filter(Boolean);
    let fileWritten = false;
    try {
      accessSync(join(repo, SMOKE_FILE));
      fileWritten = true;
    } catch {
      fileWritten = false;
    }
    return {
      agent: name,
      outcome: report.outcome,
      reason: report.reason,
      durationMs: report.durationMs,
      costUsd: report.costUsd,
      events,
      changes,
      fileWritten,
      directory: options.keep ? dir : null,
    };
  } finally {
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}
