import { describe, expect, it } from 'vitest';
import { decodeWakeup, encodeWakeup, wakesScheduler, wakeupForTaskWrite } from '../../src/core/wakeup.js';

describe('wake-ups', () => {
  it('round-trip through their payload', () => {
    const wakeup = { kind: 'slot_freed', taskId: 4, project: 'shop' } as const;
    expect(decodeWakeup(encodeWakeup(wakeup))).toEqual(wakeup);
  });

  it('read anything unknown as a plain wake-up', () => {
    expect(decodeWakeup('{"kind":"something_new","taskId":"x"}')).toEqual({ kind: 'task_ready' });
    expect(decodeWakeup(undefined)).toEqual({ kind: 'task_ready' });
    expect(decodeWakeup('[')).toEqual({ kind: 'task_ready' });
  });

  it('follow a task write that may let work start, and only those', () => {
    expect(wakeupForTaskWrite({ id: 1, project: 'p', state: 'new', version: 1 })).toEqual({ kind: 'task_added', taskId: 1, project: 'p' });
    expect(wakeupForTaskWrite({ id: 1, project: 'p', state: 'blocked', version: 1 })).toEqual({ kind: 'task_added', taskId: 1, project: 'p' });
    expect(wakeupForTaskWrite({ id: 1, project: 'p', state: 'routed', version: 5 })).toEqual({ kind: 'task_ready', taskId: 1, project: 'p' });
    expect(wakeupForTaskWrite({ id: 1, project: 'p', state: 'running', version: 5 })).toBeNull();
    expect(wakeupForTaskWrite({ id: 1, project: 'p', state: 'done', version: 9 })).toBeNull();
  });

  it('wake the scheduler for anything but stored events, which are for live views', () => {
    expect(decodeWakeup(encodeWakeup({ kind: 'events_appended' }))).toEqual({ kind: 'events_appended' });
    expect(wakesScheduler({ kind: 'events_appended' })).toBe(false);
    for (const kind of ['task_added', 'task_ready', 'slot_freed', 'reconnected'] as const) expect(wakesScheduler({ kind })).toBe(true);
  });
});
