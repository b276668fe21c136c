import type { HeldDelivery } from '../core/delivery.js';
import type { TaskState } from '../core/types.js';
import { describeStoreTarget, storeTarget, type Orch } from './context.js';
import { heldDelivery } from './delivery.js';
import { sandboxRefusal } from './tick-input.js';

export interface ProjectLine {
  name: string;
  paused: boolean;
  pausedReason: string | null;
  /** Listed in config.yaml; a project the store alone knows runs no agents. */
  configured: boolean;
  tasks: Partial<Record<TaskState, number>>;
  delivery: HeldDelivery | null;
  /** Why no agent starts for it on this machine (its sandbox cannot run here); null when they can. */
  sandboxRefused: string | null;
}

export interface PortfolioStatus {
  home: string;
  config: string;
  database: string;
  slots: { running: number; max: number };
  claims: number;
  tasks: Partial<Record<TaskState, number>>;
  projects: ProjectLine[];
}

/** The portfolio at a glance, as `orch status` and the MCP server's `status` tool show it. */
export async function portfolioStatus(orch: Orch): Promise<PortfolioStatus> {
  const projects: ProjectLine[] = [];
  const totals: Partial<Record<TaskState, number>> = {};
  for (const p of await orch.store.listProjects()) {
    const counts = await orch.store.countTasksByState(p.name);
    for (const [state, n] of Object.entries(counts) as [TaskState, number][]) totals[state] = (totals[state] ?? 0) + n;
    const configured = orch.config.projects[p.name];
    projects.push({
      name: p.name,
      paused: p.paused,
      pausedReason: p.pausedReason,
      configured: configured !== undefined,
      tasks: counts,
      delivery: await heldDelivery(orch, p.name),
      sandboxRefused: configured ? sandboxRefusal(configured) : null,
    });
  }
  const claims = await orch.store.listClaims();
  const running = (await orch.store.listRuns({ open: true })).length;
  return {
    home: orch.home,
    config: orch.config.configPath,
    database: describeStoreTarget(storeTarget(orch.home, orch.config.databaseUrl)),
    slots: { running, max: orch.config.scheduler.maxAgents },
    claims: claims.length,
    tasks: totals,
    projects,
  };
}
