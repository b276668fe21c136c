import { describe, expect, it } from 'vitest';
import type { OrchEvent } from '../../src/core/types.js';
import { EventWindow } from '../../src/server/event-window.js';

const event = (id: number): OrchEvent => ({ id, at: 1, type: 'note', project: 'app', taskId: null, runId: null, data: { id } });
const ids = (held: { events: readonly OrchEvent[] } | null) => held?.events.map((e) => e.id) ?? null;

describe('the event window', () => {
  it('gives what follows a cursor it holds, and nothing for one it does not', () => {
    const window = new EventWindow();
    expect(window.after(0)).toBeNull();
    window.add(4, [event(5), event(6)]);
    window.add(6, [event(7)]);
    expect(ids(window.after(4))).toEqual([5, 6, 7]);
    expect(ids(window.after(6))).toEqual([7]);
    expect(ids(window.after(7))).toEqual([]);
    expect(window.after(3)).toBeNull();
    const held = window.after(5)!;
    expect(held.serialised(0)).toBe(JSON.stringify(event(6)));
  });

  it('starts afresh when events do not follow its end: what lay between is not its to know', () => {
    const window = new EventWindow();
    window.add(0, [event(1), event(2)]);
    window.add(3, [event(4)]); // event 3 was stored by someone else
    expect(window.after(1)).toBeNull();
    expect(window.after(2)).toBeNull();
    expect(ids(window.after(3))).toEqual([4]);
    expect(window.end).toBe(4);
  });

  it('keeps a bounded number of events, forgetting the oldest cursors', () => {
    const window = new EventWindow();
    let last = 0;
    for (let batch = 0; batch < 100; batch++) {
      window.add(last, Array.from({ length: 100 }, (_, i) => event(last + 1 + i)));
      last += 100;
    }
    expect(window.after(0)).toBeNull();
    expect(ids(window.after(last - 1))).toEqual([last]);
    const oldest = [...Array(last).keys()].find((cursor) => window.after(cursor) !== null)!;
    expect(ids(window.after(oldest))!.length).toBe(last - oldest);
    expect(last - oldest).toBeLessThan(10_000);
  });
});
