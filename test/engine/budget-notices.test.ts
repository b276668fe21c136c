import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TickProject } from '../../src/core/plan-tick.js';
import { BudgetNotices } from '../../src/engine/budget-notices.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let clock = Date.UTC(2026, 11, 7, 9, 0, 0);

beforeEach(async () => {
  scratch = tempDir('orch-budget-notices-');
  const repo = makeRepo(scratch.path, 'app');
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ projects: { app: { path: repo } } }));
  orch = await openOrch(home, () => clock);
});
afterEach(async () => {
  await orch.close();
  scratch.cleanup();
});

const project = (spentTodayUsd: number) => ({ name: 'app', budget: { dailyUsd: 5, taskUsd: null, runUsd: null }, spentTodayUsd }) as unknown as TickProject;
const told = async () => (await orch.store.listEvents({ types: ['budget.reached'] })).map((e) => ({ at: e.at, data: e.data }));

describe('the daily budget told', () => {
  it('writes budget.reached once per project and UTC day, whoever ticks, and not while money is left', async () => {
    await new BudgetNotices(orch).note([project(4.99)]);
    expect(await told()).toEqual([]);

    const notices = new BudgetNotices(orch);
    await notices.note([project(5)]);
    await notices.note([project(6)]);
    // Another process (or this one after a restart) ticking the same day says nothing more.
    await new BudgetNotices(orch).note([project(6)]);
    expect(await told()).toEqual([{ at: clock, data: { scope: 'daily', reason: 'spent $5.00 of $5.00 today' } }]);

    clock += 86_400_000;
    await notices.note([project(5.5)]);
    expect(await told()).toHaveLength(2);
  });
});
