// A project's daily budget running out holds its dispatch without any run ending, so nothing else
// would say so: the tick writes one `budget.reached` event per project and UTC day, which the
// notifications and the log then tell.

import { checkBudget } from '../core/budget.js';
import { BUDGET_REACHED } from '../core/notifications.js';
import type { TickProject } from '../core/plan-tick.js';
import type { Orch } from './context.js';
import { startOfDayUtc } from './tick-input.js';

export class BudgetNotices {
  /** The day (its UTC midnight) each project's spent budget was last told, as this process knows it. */
  private readonly toldOn = new Map<string, number>();

  constructor(private readonly orch: Pick<Orch, 'store' | 'now'>) {}

  /** Writes `budget.reached` for each project whose daily budget is spent, once per project and day. */
  async note(projects: Iterable<TickProject>): Promise<void> {
    const now = this.orch.now();
    const today = startOfDayUtc(now);
    for (const project of projects) {
      if (this.toldOn.get(project.name) === today) continue;
      const verdict = checkBudget({ dailyUsd: project.budget.dailyUsd }, { todayUsd: project.spentTodayUsd, taskUsd: 0 });
      if (verdict.ok) continue;
      await this.orch.store.transaction(async (tx) => {
        // Another process (or this one before a restart) may have told it today already.
        const [last] = await tx.listEvents({ types: [BUDGET_REACHED], project: project.name, newestFirst: true, limit: 1 });
        if (last && last.at >= today) return;
        await tx.appendEvent({ type: BUDGET_REACHED, project: project.name, data: { scope: 'daily', reason: verdict.detail } }, now);
      });
      this.toldOn.set(project.name, today);
    }
  }
}
