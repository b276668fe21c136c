// The reports a tracker gets as a task moves: each state in the order written, one at a time, the
// latest word of a state that was not told yet replacing the one before, and a tracker's "slow down"
// waited out without losing what was left to tell.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Task, TaskState } from '../../src/core/types.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { addTask } from '../../src/engine/tasks.js';
import { TrackerReports, type ReportLink } from '../../src/engine/tracker-reports.js';
import { TrackerError, type StatusReport, type Tracker } from '../../src/trackers/tracker.js';
import { makeRepo, tempDir } from '../helpers/git.js';

/** A tracker that records what it is told; each report waits for `gate` when one is set. */
class RecordingTracker {
  readonly told: { ref: string; state: TaskState; summary: string }[] = [];
  gate: Promise<void> | null = null;
  failNext: Error | null = null;
  inFlight = 0;
  maxInFlight = 0;

  asTracker(): Tracker {
    return {
      kind: 'linear',
      sync: () => Promise.resolve({ issues: [], cursor: null, notBefore: null }),
      claim: () => Promise.resolve(true),
      report: async (ref: string, status: StatusReport) => {
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
          if (this.gate) await this.gate;
          if (this.failNext) {
            const error = this.failNext;
            this.failNext = null;
            throw error;
          }
          this.told.push({ ref, state: status.state, summary: status.summary });
        } finally {
          this.inFlight--;
        }
      },
    };
  }
}

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let recording: RecordingTracker;
let link: ReportLink;
let reports: TrackerReports;
let task: Task;

beforeEach(async () => {
  scratch = tempDir('orch-tracker-reports-');
  const repo = makeRepo(scratch.path, 'app');
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { a: { kind: 'command', command: 'true' } }, projects: { app: { path: repo, agents: ['a'] } } }));
  orch = await openOrch(home);
  recording = new RecordingTracker();
  link = { tracker: recording.asTracker(), reported: new Map(), notBefore: 0 };
  reports = new TrackerReports(orch, () => link);
  task = await addTask(orch.store, { project: 'app', title: 'Quick one', externalRef: 'linear:ENG-1' }, orch.now());
});
afterEach(async () => {
  reports.close();
  await orch.close();
  scratch.cleanup();
});

const as = (state: TaskState, extra: Partial<Task> = {}): Task => ({ ...task, state, ...extra });

describe('TrackerReports', () => {
  it('tells every state in the order written, one report at a time, even when they come faster than the tracker answers', async () => {
    let open!: () => void;
    recording.gate = new Promise<void>((resolve) => (open = resolve));
    for (const state of ['running', 'judging', 'merging', 'done'] as const) reports.note(as(state));
    open();
    await reports.settled();
    expect(recording.told.map((t) => t.state)).toEqual(['running', 'judging', 'merging', 'done']);
    expect(recording.maxInFlight).toBe(1);
  });

  it('tells a state once, and only the latest word of a state not told yet', async () => {
    let open!: () => void;
    recording.gate = new Promise<void>((resolve) => (open = resolve));
    reports.note(as('running', { attempts: 1, agent: 'a' }));
    reports.note(as('blocked', { blockedReason: 'first reason' }));
    reports.note(as('blocked', { blockedReason: 'second reason' }));
    open();
    await reports.settled();
    reports.note(as('blocked', { blockedReason: 'second reason' }));
    await reports.settled();
    expect(recording.told.map((t) => t.summary)).toEqual(['Attempt 1 is running with a.', 'Blocked: second reason.']);
  });

  it('waits out a rate limit, records it, and then tells what was left, in order', async () => {
    recording.failNext = new TrackerError('slow down', 150);
    reports.note(as('running'));
    reports.note(as('done'));
    // Waiting out the limit is not something `settled` waits for: a stopping process does not hang on it.
    await reports.settled();
    expect(recording.told).toEqual([]);
    expect(link.notBefore).toBeGreaterThan(Date.now());
    const errors = await orch.store.listEvents({ taskId: task.id, types: ['tracker.error'] });
    expect(errors.map((e) => e.data)).toEqual([{ message: 'slow down', retryAfterMs: 150 }]);
    await new Promise((resolve) => setTimeout(resolve, link.notBefore - Date.now() + 50));
    await reports.settled();
    expect(recording.told.map((t) => t.state)).toEqual(['running', 'done']);
  });

  it('goes on past a report that fails on its own, without trying it again', async () => {
    recording.failNext = new Error('no such issue');
    reports.note(as('running'));
    reports.note(as('done'));
    await reports.settled();
    expect(recording.told.map((t) => t.state)).toEqual(['done']);
  });

  it('hears of each move the store writes once a sync follows moves', async () => {
    const heard: TaskState[] = [];
    const stop = orch.store.onTaskWritten((written) => heard.push(written.state));
    await orch.store.updateTask(task.id, { expectedVersion: task.version }, { state: 'routed' }, orch.now(), { type: 'task.route', data: { from: 'new', to: 'routed' } });
    // A write that rolls back is never heard of.
    await expect(
      orch.store.transaction(async (tx) => {
        await tx.updateTask(task.id, {}, { state: 'cancelled' }, orch.now(), { type: 'task.cancel', data: { from: 'routed', to: 'cancelled' } });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    stop();
    await orch.store.updateTask(task.id, {}, { state: 'running' }, orch.now(), { type: 'task.start', data: { from: 'routed', to: 'running' } });
    expect(heard).toEqual(['routed']);
  });
});
