import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrch } from '../../src/engine/context.js';
import { CLI } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function orchAsync(args: string[], cwd: string, home: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ORCH_HOME: home, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('opening Orch', () => {
  it('registers a configured project once when several processes open a fresh store together', async () => {
    const scratch = tempDir('orch-open-');
    cleanups.push(scratch.cleanup);
    const repo = makeRepo(scratch.path, 'app');
    const home = join(scratch.path, 'home');
    mkdirSync(home);
    writeFileSync(join(home, 'config.yaml'), JSON.stringify({ projects: { app: { path: repo }, web: { path: repo } } }));

    // Each process reads the store's projects, then adds those config.yaml lists and it lacks: on a
    // fresh store they all find both missing, and all but one add finds the project already there.
    const added = await Promise.all(Array.from({ length: 8 }, (_, i) => orchAsync(['task', 'add', `Task ${i}`, '--project', 'app'], scratch.path, home)));
    for (const result of added) expect(result.code, result.output).toBe(0);

    const orch = await openOrch(home);
    cleanups.push(() => orch.close());
    expect((await orch.store.listProjects()).map((p) => p.name).sort()).toEqual(['app', 'web']);
    expect(await orch.store.listEvents({ types: ['project.added'] })).toHaveLength(2);
    expect(await orch.store.listTasks({ project: 'app' })).toHaveLength(8);
  });
});
