import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventWriter, RunEvents, eventWriterOf, flushEvents } from '../../src/engine/event-writer.js';
import { isStorageFull } from '../../src/engine/storage-condition.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/git.js';

const T0 = 1_700_000_000_000;
let store: SqliteStore;
let cleanup: () => void;

beforeEach(async () => {
  const dir = tempDir('orch-event-writer-');
  cleanup = dir.cleanup;
  store = await openSqliteStore(join(dir.path, 'orch.db'));
});
afterEach(async () => {
  await store.close();
  cleanup();
});

const line = (runId: number, n: number) => ({ event: { type: 'agent.assistant_text', taskId: runId, runId, data: { text: `run ${runId} line ${n}` } }, at: T0 + n });

describe('the event writer', () => {
  it("stores the events of many runs in a few transactions, each run's in the order given", async () => {
    let commits = 0;
    store.onCommitted(() => commits++);
    const writer = new EventWriter(store);
    const runs = [1, 2, 3, 4].map(() => new RunEvents(writer));
    for (let n = 0; n < 300; n++) {
      for (const [i, run] of runs.entries()) await run.add(line(i + 1, n));
    }
    for (const run of runs) expect(await run.settled()).toBeNull();

    const stored = await store.listEvents({ limit: 5000 });
    expect(stored).toHaveLength(1200);
    for (const runId of [1, 2, 3, 4]) {
      expect(stored.filter((event) => event.runId === runId).map((event) => event.data.text)).toEqual(Array.from({ length: 300 }, (_, n) => `run ${runId} line ${n}`));
    }
    expect(stored.find((event) => event.data.text === 'run 2 line 7')?.at).toBe(T0 + 7);
    // Queued without waiting, 1,200 events go in batches, not a transaction each.
    expect(commits).toBeLessThan(20);
  });

  it('a batch the store refuses (a full disk) is the run\'s storage error: settled returns it, and add throws it from then on', async () => {
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const writer = new EventWriter({ appendEvents: () => Promise.reject(full) });
    const run = new RunEvents(writer);
    await run.add(line(1, 0));
    await run.add(line(1, 1));
    const error = await run.settled();
    expect(error).toBe(full);
    expect(isStorageFull(error)).toBe(true);
    expect(() => run.add(line(1, 2))).toThrow(full);
  });

  it('stores what is still queued when flushed (a shutdown), once per store in a process', async () => {
    const writer = eventWriterOf(store);
    expect(eventWriterOf(store)).toBe(writer);
    void writer.append(line(1, 0));
    void writer.append(line(1, 1));
    await flushEvents(store);
    expect((await store.listEvents()).map((event) => event.data.text)).toEqual(['run 1 line 0', 'run 1 line 1']);
  });
});
