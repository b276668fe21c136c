import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orch as runOrch } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;
const orch = (...args: string[]) => runOrch(args, { cwd: repo, home });

function script(name: string, body: string): string {
  const path = join(scratch.path, 'bin', name);
  mkdirSync(join(scratch.path, 'bin'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

beforeEach(() => {
  scratch = tempDir('orch-cli-agents-');
  home = join(scratch.path, 'home');
  repo = makeRepo(scratch.path, 'app');
  mkdirSync(home);
  const writer = script('writer', 'echo ok > orch-smoke.txt\necho DONE');
  const idle = script('idle', 'echo "I will not do that"');
  writeFileSync(
    join(home, 'config.yaml'),
    ['agents:', '  writer:', '    kind: command', `    command: ${writer}`, '  idle:', '    kind: command', `    command: ${idle}`, '  ghost:', '    kind: command', '    command: orch-no-such-agent', 'projects: {}', ''].join('\n'),
  );
});
afterEach(() => scratch.cleanup());

describe('orch agents and orch agent test', () => {
  it('lists configured agents and whether their CLI is installed', () => {
    const agents = orch('agents', '--json').json<{ name: string; path: string | null }[]>();
    const byName = new Map(agents.map((a) => [a.name, a]));
    expect(byName.get('writer')!.path).toContain('writer');
    expect(byName.get('ghost')!.path).toBeNull();
    expect(byName.has('claude')).toBe(true);
    expect(orch('agents').stdout).toMatch(/ghost\s+command\s+not found \(orch-no-such-agent\)/);
  });

  it('smoke-tests an agent in a scratch repository', () => {
    const good = orch('agent', 'test', 'writer', '--json');
    expect(good.code).toBe(0);
    expect(good.json()).toMatchObject({ agent: 'writer', outcome: 'succeeded', fileWritten: true, changes: ['?? orch-smoke.txt'] });
    const lazy = orch('agent', 'test', 'idle');
    expect(lazy.code).toBe(1);
    expect(lazy.stdout).toContain('file written  no');
    const missing = orch('agent', 'test', 'ghost', '--json');
    expect(missing.code).toBe(1);
    expect(missing.json()).toMatchObject({ outcome: 'crashed' });
    expect(orch('agent', 'test', 'nobody').stderr.trim()).toBe('orch: agent "nobody" is not configured (see `orch agents`)');
  });
});

describe('orch demo', () => {
  it('runs the sample backlog end to end with the offline demo agent', () => {
    const demo = runOrch(['demo', '--json'], { cwd: scratch.path, home });
    expect(demo.code, demo.stdout + demo.stderr).toBe(0);
    const lines = demo.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const result = lines.at(-1) as { tasks: { state: string }[]; log: string[] };
    expect(result.tasks.map((t) => t.state)).toEqual(['done', 'done', 'done', 'done']);
    expect(result.log).toHaveLength(5);
    expect(lines.filter((l) => l.type === 'started')).toHaveLength(4);
  });
});
