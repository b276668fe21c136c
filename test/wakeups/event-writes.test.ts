import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Wakeup } from '../../src/core/wakeup.js';
import { announceEventWrites } from '../../src/wakeups/event-writes.js';

function fakeStore() {
  const listeners = new Set<(stored: null) => void>();
  return {
    onCommitted(listener: (stored: null) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    commit: () => listeners.forEach((listener) => listener(null)),
    listening: () => listeners.size,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('announcing stored events', () => {
  it('notifies the first commit at once and folds the commits of the next 20 ms into one notification', () => {
    vi.useFakeTimers();
    const store = fakeStore();
    const sent: Wakeup[] = [];
    const stop = announceEventWrites(store, { notify: (wakeup) => void sent.push(wakeup) });

    store.commit();
    expect(sent).toEqual([{ kind: 'events_appended' }]);
    for (let i = 0; i < 50; i++) store.commit();
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(20);
    expect(sent).toHaveLength(2);
    // Quiet since: the next commit goes out at once again.
    vi.advanceTimersByTime(100);
    store.commit();
    expect(sent).toHaveLength(3);

    // Stopped, it listens no more and drops what it held back.
    store.commit();
    stop();
    vi.advanceTimersByTime(100);
    expect(sent).toHaveLength(3);
    expect(store.listening()).toBe(0);
  });
});
