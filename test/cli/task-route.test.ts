// `orch task route` and the routing decision in `orch task show`, with the built CLI.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RoutingDecision } from '../../src/core/routing.js';
import type { Task } from '../../src/core/types.js';
import { orch as runOrch } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;
const orch = (...args: string[]) => runOrch(args, { cwd: repo, home });

beforeEach(() => {
  scratch = tempDir('orch-cli-route-');
  home = join(scratch.path, 'home');
  repo = makeRepo(scratch.path, 'app');
  mkdirSync(home);
  const routing = { weights: { codex: 3 }, model_map: { complex: { claude: 'claude-opus-4-1' } } };
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ projects: { app: { path: repo, agents: ['claude', 'codex'], routing } } }));
});
afterEach(() => scratch.cleanup());

describe('orch task route and show', () => {
  it('routes a queued task by its labels, else the round robin, and shows the decision', () => {
    const labelled = orch('task', 'add', 'Refactor the parser', '--label', 'agent:claude,complexity:complex', '--json').json<Task>();
    const routed = orch('task', 'route', String(labelled.id));
    expect(routed.stdout.trim()).toBe(`Routed #${labelled.id} to claude · claude-opus-4-1 · complex (by label): label agent:claude; complexity from label complexity:complex`);
    const shown = orch('task', 'show', String(labelled.id));
    expect(shown.stdout).toContain('  state      routed');
    expect(shown.stdout).toContain('  agent      claude · claude-opus-4-1 · complex');
    expect(shown.stdout).toContain('  routed by  label: label agent:claude; complexity from label complexity:complex');

    const plain = orch('task', 'add', 'Fix a typo', '--json').json<Task>();
    const again = orch('task', 'route', String(plain.id), '--json').json<{ task: Task; decision: RoutingDecision }>();
    expect(again.decision).toMatchObject({ agent: 'codex', by: 'round_robin', model: null, reason: expect.stringMatching(/^round robin: codex/) });
    expect(again.task).toMatchObject({ state: 'routed', agent: 'codex' });
    expect(orch('task', 'get', String(plain.id), '--json').json<{ routing: RoutingDecision }>().routing).toMatchObject({ agent: 'codex', by: 'round_robin' });
  });

  it('refuses a task that is not waiting to run', () => {
    const task = orch('task', 'add', 'Gone', '--json').json<Task>();
    orch('task', 'cancel', String(task.id));
    const refused = orch('task', 'route', String(task.id));
    expect([refused.code, refused.stderr.trim()]).toEqual([4, `orch: task ${task.id} is cancelled: there is nothing to route`]);
    expect(orch('task', 'route', '99').code).toBe(3);
  });
});
