// One contender of the claim race (claim-race.test.ts), run as its own OS process against the
// compiled store. Protocol over the IPC channel: it sends `ready` once the store is open, waits for
// `go`, makes its claim attempts, then sends `done` with what it saw.
//
// Usage: node claim-race-worker.mjs <sqlite|postgres> <db path or URL> <owner> <attempts> <task ids, comma-separated> [first-free]
// With `first-free` it claims with `claimFirstFree` on the task ids in a random order of its own.
import { setImmediate as yieldToLoop } from 'node:timers/promises';

const [kind, location, owner, attemptsArg, taskIdsArg, how] = process.argv.slice(2);
const attempts = Number(attemptsArg);
const taskIds = taskIdsArg.split(',').map(Number);

const store =
  kind === 'postgres'
    ? await (await import('../../dist/store/postgres/postgres-store.js')).openPostgresStore(location)
    : await (await import('../../dist/store/sqlite/sqlite-store.js')).openSqliteStore(location);
const go = new Promise((resolve) => process.once('message', resolve));
process.send({ type: 'ready' });
await go;

/** Each successful claim: which task, with which token, at which local attempt. */
const holds = [];
let refused = 0;
for (let attempt = 0; attempt < attempts; attempt++) {
  const now = Date.now();
  const claim =
    how === 'first-free'
      ? await store.claimFirstFree({ taskIds: [...taskIds].sort(() => Math.random() - 0.5), owner, leaseMs: 60_000, now })
      : await store.claimTask({ taskId: taskIds[Math.floor(Math.random() * taskIds.length)], owner, leaseMs: 60_000, now });
  if (!claim) {
    refused++;
    continue;
  }
  const taskId = claim.taskId;
  // Read, let time pass, then write back through the fence: a second holder of the same task
  // would turn this read-modify-write into a lost update or a version conflict.
  const task = await store.getTask(taskId);
  await yieldToLoop();
  await store.updateTask(
    taskId,
    { fence: claim.token, expectedVersion: task.version },
    { attempts: task.attempts + 1 },
    Date.now(),
    { type: 'race.held', data: { owner, token: claim.token } },
  );
  const released = await store.releaseClaim(taskId, claim.token, Date.now());
  if (!released) {
    throw new Error(`${owner} could not release task ${taskId} (token ${claim.token})`);
  }
  holds.push({ taskId, token: claim.token, attempt });
}

await store.close();
process.send({ type: 'done', owner, attempts, refused, holds }, () => process.disconnect());
