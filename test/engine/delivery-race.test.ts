import { fork, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureClone } from '../../src/workspace/clone.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

// Deliveries from several Orch processes into one checkout at once. A pre-receive hook that takes a
// while holds each push between git reading the branch and moving it, the window in which a second
// push used to write the working tree and index and then fail to move the branch.

const contenderPath = fileURLToPath(new URL('./fixtures/delivery-contender.mjs', import.meta.url));
const compiledDelivery = fileURLToPath(new URL('../../dist/engine/delivery.js', import.meta.url));
const PROCESSES = 8;
const ROUNDS = 20;

let scratch: { path: string; cleanup: () => void };
const children: ChildProcess[] = [];

beforeEach(() => {
  if (!existsSync(compiledDelivery)) throw new Error(`${compiledDelivery} is missing: run \`npm run build\` before this test`);
  scratch = tempDir('orch-delivery-race-');
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  scratch.cleanup();
});

function contender(args: string[]): ChildProcess {
  const child = fork(contenderPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  children.push(child);
  return child;
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`contender exited (${signal ?? code}) before ${type}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

describe('deliveries from several processes into one checkout', () => {
  // Each round takes a few seconds (every push waits for the hook); the limit only catches a hang.
  it('are taken one at a time: the checkout stays clean and ends on a commit with every change, round after round', { timeout: 600_000 }, async () => {
    const home = join(scratch.path, 'home');
    const user = makeRepo(scratch.path, 'user');
    writeFileSync(join(user, 'app.txt'), 'version 1\n');
    git(user, ['add', 'app.txt']);
    git(user, ['commit', '-q', '-m', 'app']);
    const clone = (await ensureClone(home, { name: 'app', path: user, remote: null, defaultBranch: 'main' })).path;
    const hook = join(user, '.git', 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\nsleep 0.5\n');
    chmodSync(hook, 0o755);

    const racers = Array.from({ length: PROCESSES }, (_, i) => contender([home, clone, user, String(i)]));
    await Promise.all(racers.map((r) => nextMessage(r, 'ready')));
    const delivered: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const done = racers.map((r) => nextMessage<{ file: string; result: { delivered: boolean; message?: string } }>(r, 'done'));
      for (const r of racers) r.send({ type: 'go', round });
      const results = await Promise.all(done);
      delivered.push(...results.map((r) => r.file));

      const status = git(user, ['status', '--porcelain', '--ignored', '--untracked-files=all']);
      expect(status, `round ${round}: the checkout is not clean`).toBe('');
      expect(git(user, ['rev-parse', 'HEAD']), `round ${round}: the checkout is not on the clone's main`).toBe(git(clone, ['rev-parse', 'main']));
      expect(results.map((r) => r.result), `round ${round}`).toEqual(Array.from({ length: PROCESSES }, () => ({ delivered: true })));
      const tracked = new Set(git(user, ['ls-files']).split('\n'));
      for (const file of delivered) {
        expect(tracked.has(file), `round ${round}: ${file} is missing`).toBe(true);
        expect(readFileSync(join(user, file), 'utf8')).toBe(`${file}\n`);
      }
    }
  });
});
