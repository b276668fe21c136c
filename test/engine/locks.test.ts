import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withLock } from '../../src/engine/locks.js';

const contenderPath = fileURLToPath(new URL('./fixtures/lock-contender.mjs', import.meta.url));
const compiledLocks = fileURLToPath(new URL('../../dist/engine/locks.js', import.meta.url));

let home: string;
const children: ChildProcess[] = [];

function contender(args: string[]): ChildProcess {
  const child = fork(contenderPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  children.push(child);
  return child;
}
const message = (child: ChildProcess, type: string) =>
  new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type: string }) => m.type === type && resolve());
    child.once('exit', (code, signal) => reject(new Error(`contender exited (${signal ?? code}) before ${type}`)));
  });
const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));

beforeEach(() => {
  if (!existsSync(compiledLocks)) throw new Error(`${compiledLocks} is missing: run \`npm run build\` before this test`);
  home = mkdtempSync(join(tmpdir(), 'orch-locks-'));
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

describe('withLock', () => {
  it('runs calls with one key one after another in a process, and other keys alongside', async () => {
    const log: string[] = [];
    const step = (name: string, ms: number) => async () => {
      log.push(`start ${name}`);
      await sleep(ms);
      log.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([withLock(home, 'clone:a', step('a1', 30)), withLock(home, 'clone:a', step('a2', 1)), withLock(home, 'clone:b', step('b', 1))]);
    expect(results).toEqual(['a1', 'a2', 'b']);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b')).toBeLessThan(log.indexOf('end a1'));
  });

  it('lets the next caller in after one fails', async () => {
    await expect(withLock(home, 'merge:x', () => Promise.reject(new Error('git failed')))).rejects.toThrow('git failed');
    await expect(withLock(home, 'merge:x', async () => 'next')).resolves.toBe('next');
  });

  it('keeps another process out while one holds it, and lets it in the moment the holder is killed', async () => {
    const holder = contender(['hold', home, 'clone:shop']);
    await message(holder, 'held');
    let entered = false;
    const waiting = withLock(home, 'clone:shop', async () => {
      entered = true;
    });
    await sleep(400);
    expect(holder.exitCode).toBeNull();
    expect(entered).toBe(false);
    // Another key is free meanwhile.
    await expect(withLock(home, 'clone:other', async () => 'free')).resolves.toBe('free');
    holder.kill('SIGKILL');
    await exited(holder);
    await waiting;
    expect(entered).toBe(true);
  });

  it('never lets two processes inside at once', async () => {
    const file = join(home, 'log.txt');
    const racers = [contender(['append', home, 'merge:shop', file, '25']), contender(['append', home, 'merge:shop', file, '25'])];
    await Promise.all(racers.map((r) => message(r, 'ready')));
    for (const r of racers) r.send({ type: 'go' });
    expect(await Promise.all(racers.map(exited))).toEqual([0, 0]);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(100);
    for (let i = 0; i < lines.length; i += 2) {
      const pid = lines[i]!.split(' ')[1];
      expect([lines[i], lines[i + 1]]).toEqual([`start ${pid}`, `end ${pid}`]);
    }
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBe(2);
  });
});
