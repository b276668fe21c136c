import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunMcpServer } from '../agents/agent.js';
import { OrchError } from '../core/errors.js';
import type { Attempt } from './attempt.js';
import type { Orch } from './context.js';
import { openWorkerApi } from './worker-api.js';
import { orchInstallPaths } from './orch-install.js';

/** What a run of a project with approvals on gets: its MCP server's command, what the sandbox must show of it, its API to close. */
export interface RunApprovals {
  server: RunMcpServer;
  /** Orch's install (the server's script and its dependencies), read-only inside the sandbox. */
  sandboxPaths: string[];
  close(): Promise<void>;
}

/**
 * Opens the run's API (on a socket in its HOME, the one folder of ORCH_HOME its sandbox sees) and says
 * how its agent starts Orch's MCP server (run-mcp/). Null when the project has approvals off.
 */
export async function openRunApprovals(orch: Orch, attempt: Attempt, cwd: string, runHome: string): Promise<RunApprovals | null> {
  if (!attempt.project.approvals.enabled) return null;
  const api = await openWorkerApi(orch, { run: { project: attempt.project.name, taskId: attempt.task.id, runId: attempt.run.id, role: attempt.task.role, cwd } }, join(runHome, '.orch'));
  const command = [process.execPath, runMcpServerScript()];
  return {
    server: { command: command[0]!, args: command.slice(1), env: api.env },
    sandboxPaths: orchInstallPaths(command),
    close: () => api.close(),
  };
}

/** The built server next to this module (dist/), else the build of the sources being run. */
function runMcpServerScript(): string {
  const candidates = ['../run-mcp/main.js', '../../dist/run-mcp/main.js'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  const script = candidates.find((path) => existsSync(path));
  if (!script) throw new OrchError('config', "cannot find Orch's MCP server for runs (run-mcp/main.js): build Orch first");
  return script;
}
