import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OrchEvent, Task } from '../../src/core/types.js';
import { databasePath } from '../../src/engine/context.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { TOKEN, json, useServer } from './harness.js';
import { SseClient, type SseFrame } from './sse-client.js';

const h = useServer({ events: { pollMs: 20, heartbeatMs: 150 } });

const clients: SseClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

async function subscribe(query = '', headers: Record<string, string> = {}): Promise<SseClient> {
  const client = await SseClient.connect(`${h.server.url}/events${query}`, { Authorization: `Bearer ${TOKEN}`, ...headers });
  clients.push(client);
  return client;
}

async function createTask(title: string): Promise<Task> {
  return json<Task>(await h.call('/tasks', { body: { project: 'app', title } }));
}

const orchEvents = (client: SseClient) => client.received().filter((frame) => frame.event !== 'ready' && frame.comment === undefined);
const eventOf = (frame: SseFrame) => JSON.parse(frame.data!) as OrchEvent;

describe('GET /events', () => {
  it('streams a task created over HTTP as a task.created event with its id', async () => {
    const client = await subscribe();
    expect(client.response.status).toBe(200);
    expect(client.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await client.waitFor((frame) => frame.event === 'ready');

    const task = await createTask('Stream me');
    const frame = await client.waitFor((f) => f.event === 'task.created');
    const event = eventOf(frame);
    expect(event).toMatchObject({ type: 'task.created', taskId: task.id, project: 'app' });
    expect(frame.id).toBe(String(event.id));
  });

  it('starts at the newest event by default, and replays the log with ?after=0', async () => {
    const earlier = await createTask('Before the stream');
    const live = await subscribe();
    const ready = await live.waitFor((frame) => frame.event === 'ready');
    expect(Number(ready.id)).toBe(await h.orch.store.latestEventId());
    const later = await createTask('During the stream');
    await live.waitFor((frame) => frame.event === 'task.created');
    expect(orchEvents(live).map((frame) => eventOf(frame).taskId)).toEqual([later.id]);

    const replay = await subscribe('?after=0');
    await replay.waitFor((frame) => frame.event === 'task.created' && eventOf(frame).taskId === later.id);
    expect(orchEvents(replay).filter((frame) => frame.event === 'task.created').map((frame) => eventOf(frame).taskId)).toEqual([earlier.id, later.id]);
  });

  it('resumes after Last-Event-ID with only the later events, and the header wins over ?after=', async () => {
    const first = await createTask('First');
    const cutoff = (await h.orch.store.listEvents({ taskId: first.id })).at(-1)!.id;
    const second = await createTask('Second');

    const resumed = await subscribe('?after=0', { 'Last-Event-ID': String(cutoff) });
    await resumed.waitFor((frame) => frame.event === 'task.created');
    const ids = orchEvents(resumed).map((frame) => Number(frame.id));
    expect(ids.length).toBeGreaterThan(0);
    expect(Math.min(...ids)).toBeGreaterThan(cutoff);
    expect(orchEvents(resumed).map((frame) => eventOf(frame).taskId)).not.toContain(first.id);
    expect(orchEvents(resumed).map((frame) => eventOf(frame).taskId)).toContain(second.id);
  });

  it('sends only the events of one task with ?task=', async () => {
    const watched = await createTask('Watched');
    const client = await subscribe(`?task=${watched.id}&after=0`);
    await client.waitFor((frame) => frame.event === 'task.created');
    const other = await createTask('Other');
    await h.call(`/tasks/${other.id}/cancel`, { method: 'POST' });
    await h.call(`/tasks/${watched.id}/cancel`, { method: 'POST' });
    await client.waitFor((frame) => frame.event === 'task.cancel');
    expect(orchEvents(client).every((frame) => eventOf(frame).taskId === watched.id)).toBe(true);
  });

  it('follows events written by another writer of the same store', async () => {
    const client = await subscribe('?project=app');
    await client.waitFor((frame) => frame.event === 'ready');
    await h.orch.store.appendEvent({ type: 'custom.note', project: 'app', data: { note: 'from the CLI' } }, Date.now());
    await h.orch.store.appendEvent({ type: 'custom.elsewhere', project: 'other' }, Date.now());
    const frame = await client.waitFor((f) => f.event === 'custom.note');
    expect(eventOf(frame).data).toEqual({ note: 'from the CLI' });
    expect(client.received().some((f) => f.event === 'custom.elsewhere')).toBe(false);
  });

  it('sends a comment heartbeat while nothing happens', async () => {
    const client = await subscribe();
    const heartbeat = await client.waitFor((frame) => frame.comment !== undefined, 2000);
    expect(heartbeat.comment).toBe('heartbeat');
  });

  it('refuses bad parameters with a JSON 400 before streaming, and requires the token', async () => {
    const bad = await h.call('/events?task=x');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^task: /);
    expect((await h.call('/events', { headers: { 'Last-Event-ID': 'abc' } })).status).toBe(400);
    expect((await h.call('/events', { token: null })).status).toBe(401);
  });

  it("reads the store only when something was written — another process's writes seen through SQLite's data_version — and stops once the client disconnects", async () => {
    const polls = vi.spyOn(h.orch.store, 'listEvents');
    const client = await subscribe();
    await client.waitFor((frame) => frame.event === 'ready');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(polls.mock.calls.length).toBe(1); // the first read; nothing written since

    // Another process's connection to the same file: no commit of this store wakes the stream.
    const other = await openSqliteStore(databasePath(h.orch.home));
    try {
      await other.appendEvent({ type: 'custom.elsewhere', project: 'app' }, Date.now());
      await client.waitFor((frame) => frame.event === 'custom.elsewhere');
      expect(polls.mock.calls.length).toBeGreaterThan(1);
      client.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const afterClose = polls.mock.calls.length;
      await other.appendEvent({ type: 'custom.later', project: 'app' }, Date.now());
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(polls.mock.calls.length).toBe(afterClose);
    } finally {
      await other.close();
    }
  });

  it('ends open streams when the server closes', async () => {
    const polls = vi.spyOn(h.orch.store, 'listEvents');
    const client = await subscribe();
    await client.waitFor((frame) => frame.event === 'ready');
    await h.server.close();
    await client.waitForEnd();
    const afterClose = polls.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(polls.mock.calls.length).toBe(afterClose);
  });
});
