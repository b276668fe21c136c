import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OrchEvent } from '../../src/core/types.js';
import type { StoreKind } from './fixtures.js';
import { acquireCluster, addProject, createTask, createTestDatabase, makeTempDir, openStore, releaseCluster, storeKinds } from './fixtures.js';

const WORKERS = 4;
const ATTEMPTS_PER_WORKER = 300;
const TASKS = 20;

const workerPath = fileURLToPath(new URL('./claim-race-worker.mjs', import.meta.url));
const compiledStores: Record<StoreKind, string> = {
  sqlite: fileURLToPath(new URL('../../dist/store/sqlite/sqlite-store.js', import.meta.url)),
  postgres: fileURLToPath(new URL('../../dist/store/postgres/postgres-store.js', import.meta.url)),
};

interface Hold {
  taskId: number;
  token: number;
  attempt: number;
}

interface WorkerReport {
  owner: string;
  attempts: number;
  refused: number;
  holds: Hold[];
}

/** A contender claiming by id (`claimTask`), or the first free of a list (`claimFirstFree`). */
function startContender(kind: StoreKind, location: string, owner: string, taskIds: number[], firstFree: boolean): ChildProcess {
  const child = fork(workerPath, [kind, location, owner, String(ATTEMPTS_PER_WORKER), taskIds.join(','), ...(firstFree ? ['first-free'] : [])], {
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    // A plain node process running the compiled store, not one inheriting vitest's flags.
    execArgv: [],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.once('exit', (code, signal) => {
    if (code !== 0) {
      child.emit('failed', new Error(`${owner} exited (${signal ?? code}):\n${stderr}`));
    }
  });
  return child;
}

/** The next message of `type` from a contender, or its failure if it dies first. */
function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    child.on('message', (message: { type: string }) => {
      if (message.type === type) resolve(message as T);
    });
    child.once('failed', reject);
  });
}

describe.each(storeKinds)('claims raced by several processes on %s', (kind) => {
  let dir: string;
  const contenders: ChildProcess[] = [];
  const compiledStore = compiledStores[kind];

  if (kind === 'postgres') {
    beforeAll(acquireCluster);
    afterAll(releaseCluster);
  }
  beforeEach(() => {
    if (!existsSync(compiledStore)) {
      throw new Error(`${compiledStore} is missing: run \`npm run build\` before this test`);
    }
    dir = makeTempDir();
  });
  afterEach(() => {
    for (const child of contenders.splice(0)) if (child.exitCode === null) child.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never lets two holders hold one task, claimed by id or as the first free one of a list', async () => {
    const location = kind === 'sqlite' ? join(dir, 'orch.db') : await createTestDatabase();
    const setup = await openStore(kind, location);
    await addProject(setup);
    const taskIds: number[] = [];
    for (let i = 0; i < TASKS; i++) {
      taskIds.push((await createTask(setup, { title: `task ${i}` })).id);
    }
    await setup.close();

    for (let i = 0; i < WORKERS; i++) {
      contenders.push(startContender(kind, location, `worker-${i}`, taskIds, i % 2 === 1));
    }
    await Promise.all(contenders.map((child) => nextMessage(child, 'ready')));
    const finished = contenders.map((child) => nextMessage<WorkerReport>(child, 'done'));
    for (const child of contenders) child.send('go');
    const reports = await Promise.all(finished);

    const store = await openStore(kind, location);
    try {
      const holds = reports.flatMap((report) => report.holds);
      const totalAttempts = reports.reduce((sum, report) => sum + report.attempts, 0);
      const refused = reports.reduce((sum, report) => sum + report.refused, 0);
      expect(totalAttempts).toBeGreaterThanOrEqual(1000);
      expect(holds.length + refused).toBe(totalAttempts);
      // Contention really happened, or the test proves nothing.
      expect(refused).toBeGreaterThan(0);

      // Every holder incremented `attempts` through its fence: no increment was lost.
      const tasks = await store.listTasks({ ids: taskIds });
      expect(tasks.reduce((sum, task) => sum + task.attempts, 0)).toBe(holds.length);
      for (const task of tasks) {
        expect(task.attempts).toBe(holds.filter((hold) => hold.taskId === task.id).length);
      }

      // Tokens are unique, and each worker saw its own tokens increase.
      expect(new Set(holds.map((hold) => hold.token)).size).toBe(holds.length);
      for (const report of reports) {
        const tokens = report.holds.map((hold) => hold.token);
        expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
      }

      // In the order the events show (per task that is commit order): acquired and released
      // alternate with the same token, and each task's tokens rise.
      const events = await store.listEvents({ afterId: 0, types: ['claim.acquired', 'claim.released'] });
      expect(events.filter((event) => event.type === 'claim.acquired')).toHaveLength(holds.length);
      expectAlternatingHolds(events);
      expect(await store.listClaims()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

function expectAlternatingHolds(events: OrchEvent[]): void {
  const holderOf = new Map<number, number>();
  const lastToken = new Map<number, number>();
  for (const event of events) {
    const taskId = event.taskId ?? -1;
    const token = event.data['token'] as number;
    if (event.type === 'claim.acquired') {
      const held = holderOf.has(taskId);
      expect(held, `task ${taskId} acquired (token ${token}) while held`).toBe(false);
      expect(token).toBeGreaterThan(lastToken.get(taskId) ?? 0);
      lastToken.set(taskId, token);
      holderOf.set(taskId, token);
    } else {
      expect(holderOf.get(taskId), `task ${taskId} released by a non-holder`).toBe(token);
      holderOf.delete(taskId);
    }
  }
  expect(holderOf.size).toBe(0);
}
