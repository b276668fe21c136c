import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { DISPATCHABLE_STATES, type OrchEvent, type Role, type Run, type Task, type TaskState } from '../../core/types.js';
import type { Orch } from '../../engine/context.js';
import { runCostSoFar } from '../../engine/cost.js';
import { getTask } from '../../engine/tasks.js';
import { parseTaskId } from '../args.js';
import { say, showControls, table } from '../output.js';
import { command } from '../run.js';

// Everything here reads the store's event log by polling, never an in-process bus: the store is the
// one place every process (`orch serve`, `orch run`, another terminal's `orch task run`) writes to.

const POLL_MS = 250;
const LIVE_REFRESH_MS = 1000;
const BATCH = 500;
/** States where following a task ends: nothing more happens without a person. */
const STOP_STATES: ReadonlySet<TaskState> = new Set(['done', 'in_review', 'cancelled', 'needs_review', 'blocked']);
/** Events that close a run: the supervisor's end, recovery's, or a step before the agent failing. */
const RUN_END_TYPES = new Set(['run.ended', 'run.recovered', 'run.failed']);
/** Bookkeeping a reader does not need; `--json` still prints it. */
const QUIET = new Set(['run.created', 'run.updated', 'run.spawned', 'agent.usage', 'agent.cost', 'agent.session_started', 'claim.acquired', 'claim.released', 'task.cost']);

const oneLine = (value: unknown, max = 120) => {
  const text = String(value ?? '').replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};
const usd = (value: unknown) => (typeof value === 'number' ? ` ($${value.toFixed(4)})` : '');

/** A tool call's input in a few words: the field that says what it does (a command, a path), else its JSON. */
function shortInput(input: unknown): string {
  if (input !== null && typeof input === 'object') {
    const fields = input as Record<string, unknown>;
    for (const key of ['command', 'file_path', 'path', 'pattern', 'url', 'query', 'description']) {
      if (typeof fields[key] === 'string') return oneLine(fields[key], 60);
    }
  }
  return oneLine(typeof input === 'string' ? input : JSON.stringify(input ?? ''), 60);
}

/** One event as a person reads it, or null for bookkeeping. */
export function renderEvent(event: OrchEvent): string | null {
  const d = event.data;
  const run = `run ${event.runId}`;
  switch (event.type) {
    case 'agent.assistant_text':
      return String(d.text ?? '').trimEnd() || null;
    case 'agent.tool_call':
      return `→ tool: ${oneLine(d.name, 40)}(${shortInput(d.input)})`;
    case 'agent.tool_result': {
      const output = String(d.output ?? '').trim();
      const lines = output ? output.split('\n').length : 0;
      return `  ${d.isError ? '✗' : '←'} ${oneLine(output, 100) || '(no output)'}${lines > 1 ? ` [${lines} lines]` : ''}`;
    }
    case 'agent.error':
      return `! ${oneLine(d.kind, 20)} error: ${oneLine(d.message)}`;
    case 'agent.rate_limit':
      return `! rate limited: ${oneLine(d.message)}`;
    case 'agent.usage_refused':
      return `! ${oneLine(d.reason)}`;
    case 'agent.result':
      return `agent finished: ${d.ok ? 'ok' : 'failed'}${typeof d.turns === 'number' ? ` after ${d.turns} turns` : ''}`;
    case 'run.started':
      return `▶ ${run} started: ${oneLine(d.agent, 40)}, attempt ${d.attempt}`;
    case 'run.ended':
      return `■ ${run} ended ${d.outcome}: ${oneLine(d.reason)}${usd(d.costUsd)}`;
    case 'run.failed':
      return `■ ${run} failed: ${oneLine(d.reason)}`;
    case 'run.recovered':
      return `■ ${run} ended crashed: its owner ${oneLine(d.owner, 60)} stopped`;
    case 'run.kill_requested':
      return `✗ kill requested for ${run} (pid ${d.pid})`;
    case 'judge.verdict':
      return `⚖ verdict: ${oneLine(d.summary)}`;
    case 'merge.done':
      return `✓ merged ${String(d.commit).slice(0, 12)} into ${d.branch}`;
  }
  if (event.type.startsWith('task.') && typeof d.from === 'string') return `· ${d.from} → ${d.to}${d.reason ? ` — ${oneLine(d.reason)}` : ''}`;
  return QUIET.has(event.type) ? null : `· ${event.type.replace('.', ' ')}`;
}

const write = say;

/** Why the task stopped: its block reason, else the reason of the move that stopped it (read when not seen). */
async function whyStopped(orch: Orch, task: Task, seen: string | null): Promise<string> {
  const what: Partial<Record<TaskState, string>> = { done: 'is done', in_review: 'is in review', cancelled: 'was cancelled', needs_review: 'needs review', blocked: 'is blocked' };
  const moves = ['task.finish', 'task.propose', 'task.resolve', 'task.cancel', 'task.escalate', 'task.block'];
  const reason = task.blockedReason ?? seen ?? (await orch.store.listEvents({ taskId: task.id, types: moves })).at(-1)?.data.reason;
  return `■ #${task.id} ${what[task.state] ?? `is ${task.state}`}${reason ? ` — ${oneLine(reason, 200)}` : ''}`;
}

/** Waits `ms`, or less when the signal fires (an abort ends the wait; it is not an error here). */
const pause = (ms: number, signal: AbortSignal): Promise<void> => sleep(ms, undefined, { signal }).catch(() => undefined);

/** Runs `body` with a signal that Ctrl-C (or SIGTERM) fires: following ends quietly instead of dying mid-line. */
async function untilInterrupted<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  // A reader that goes away (`orch stream 1 | head`) ends the follow too, instead of an EPIPE crash.
  // The handler stays: the error of a write may only be emitted after the body has returned.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stop();
  });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await body(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

interface FollowOptions {
  json: boolean;
  signal: AbortSignal;
  /** Attach: only this run's events (and the task's own), ending with the run. */
  runId?: number;
}

/**
 * Prints the task's events after `cursor` as they are written, until it stops (the task in a stop
 * state, or the attached run ended) or the signal fires. Returns the line saying why it stopped, or null.
 * The task (and run) are read before the log is drained: the event of a change commits with it, so a
 * stop seen in the row is always followed by printing the event that led there.
 */
async function follow(orch: Orch, taskId: number, cursor: number, options: FollowOptions): Promise<string | null> {
  let lastReason: string | null = null;
  while (!options.signal.aborted) {
    const task = await orch.store.getTask(taskId);
    if (!task) return `■ #${taskId} was removed (its project was removed)`;
    const run = options.runId === undefined ? undefined : await orch.store.getRun(options.runId);
    let batch: OrchEvent[];
    do {
      batch = await orch.store.listEvents({ taskId, afterId: cursor, limit: BATCH });
      for (const event of batch) {
        cursor = event.id;
        if (options.runId !== undefined && event.runId !== null && event.runId !== options.runId) continue;
        if (options.json) process.stdout.write(`${JSON.stringify(event)}\n`);
        else {
          const line = renderEvent(event);
          if (line !== null) write(line);
        }
        if (event.type.startsWith('task.') && typeof event.data.reason === 'string') lastReason = event.data.reason;
        if (options.runId !== undefined && event.runId === options.runId && RUN_END_TYPES.has(event.type)) return null;
      }
    } while (batch.length === BATCH);
    if (run?.endedAt != null) return `■ run ${run.id} ended ${run.outcome ?? ''}`.trimEnd();
    if (options.runId === undefined && STOP_STATES.has(task.state)) return whyStopped(orch, task, lastReason);
    await pause(POLL_MS, options.signal);
  }
  return null;
}

/** The id just before a run's first event, so following from there shows the whole run. */
async function beforeRun(orch: Orch, run: Run): Promise<number> {
  const created = (await orch.store.listEvents({ taskId: run.taskId, types: ['run.created'] })).find((e) => e.runId === run.id);
  return created ? created.id - 1 : 0;
}

/** Where `orch stream` starts: the whole history, else the current run's first event, else now. */
async function streamStart(orch: Orch, taskId: number, fromStart: boolean): Promise<number> {
  if (fromStart) return 0;
  const run = (await orch.store.listRuns({ taskId })).at(-1);
  if (run) return beforeRun(orch, run);
  return (await orch.store.listEvents({ taskId })).at(-1)?.id ?? 0;
}

/**
 * The run `attach` follows: the open one; else, for a queued task, the next one to start (waiting for
 * it); else the last one, replayed. A line saying why there is none when the task has stopped.
 */
async function runToAttach(orch: Orch, taskId: number, json: boolean, signal: AbortSignal): Promise<Run | string | null> {
  const known = (await orch.store.listRuns({ taskId })).at(-1);
  for (let waiting = false; !signal.aborted; waiting = true) {
    const task = await orch.store.getTask(taskId);
    if (!task) return `■ #${taskId} was removed (its project was removed)`;
    const latest = (await orch.store.listRuns({ taskId })).at(-1);
    if (latest && (latest.endedAt === null || latest.id !== known?.id)) return latest;
    if (STOP_STATES.has(task.state) || (!latest && !DISPATCHABLE_STATES.has(task.state))) return whyStopped(orch, task, null);
    if (!DISPATCHABLE_STATES.has(task.state)) return latest!;
    if (!waiting && !json) write(`Waiting for #${taskId} to start (${task.state})…`);
    await pause(POLL_MS, signal);
  }
  return null;
}

interface LiveRow {
  taskId: number;
  title: string;
  project: string;
  role: Role;
  agent: string | null;
  state: TaskState;
  runId: number | null;
  owner: string;
  elapsedMs: number;
  costUsd: number;
}

async function liveRows(orch: Orch): Promise<LiveRow[]> {
  const now = orch.now();
  const rows: LiveRow[] = [];
  for (const claim of await orch.store.listClaims()) {
    const task = await orch.store.getTask(claim.taskId);
    if (!task) continue;
    const run = claim.runId === null ? undefined : await orch.store.getRun(claim.runId);
    const costUsd = run ? await runCostSoFar(orch.store, run, orch.config.prices) : 0;
    rows.push({ taskId: task.id, title: task.title, project: task.project, role: task.role, agent: run?.agent ?? task.agent, state: task.state, runId: run?.id ?? null, owner: claim.owner, elapsedMs: now - (run?.startedAt ?? claim.claimedAt), costUsd });
  }
  return rows;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const liveText = (rows: LiveRow[]) =>
  rows.length === 0
    ? 'No task holds a claim.'
    : table(
        rows.map((r) => [`#${r.taskId}`, r.project, r.agent ?? '', r.state, duration(r.elapsedMs), `$${r.costUsd.toFixed(4)}`, `${oneLine(r.title, 60)}  (${r.role})`]),
        ['ID', 'PROJECT', 'AGENT', 'STATE', 'ELAPSED', 'COST', 'TITLE'],
      );

export function registerWatchCommands(program: Command, task: Command): void {
  program
    .command('stream')
    .description("a task's live agent output, across retries, until it is done, blocked or needs review")
    .argument('<task>', 'task id', parseTaskId)
    .option('--from-start', "replay the task's whole history first (default: from its current run)")
    .option('--json', 'print events as JSON lines')
    .action(
      command(async (io, id: number, options: { fromStart?: boolean }) => {
        const orch = await io.orch();
        const found = await getTask(orch.store, id);
        const cursor = await streamStart(orch, id, Boolean(options.fromStart));
        if (!io.out.json) write(`Following #${id} ${oneLine(found.title, 80)} (${found.state}); Ctrl-C to stop.`);
        const end = await untilInterrupted((signal) => follow(orch, id, cursor, { json: io.out.json, signal }));
        if (end !== null && !io.out.json) write(end);
      }),
    );

  task
    .command('attach')
    .description("follow a task's current run (waiting for one if the task is queued) until it ends")
    .argument('<id>', 'task id', parseTaskId)
    .option('--json', 'print events as JSON lines')
    .action(
      command(async (io, id: number) => {
        const orch = await io.orch();
        await getTask(orch.store, id);
        const end = await untilInterrupted(async (signal) => {
          const run = await runToAttach(orch, id, io.out.json, signal);
          if (run === null || typeof run === 'string') return run;
          return follow(orch, id, await beforeRun(orch, run), { json: io.out.json, signal, runId: run.id });
        });
        if (end !== null && !io.out.json) write(end);
      }),
    );

  task
    .command('live')
    .description('every task holding a claim: agent, state, elapsed time and cost so far, refreshed each second')
    .option('--once', 'print one snapshot and exit')
    .option('--json', 'print one snapshot as JSON')
    .action(
      command(async (io, options: { once?: boolean }) => {
        const orch = await io.orch();
        // Redrawing only makes sense on a terminal; piped output gets one snapshot, like --once.
        if (options.once || io.out.json || !process.stdout.isTTY) {
          const rows = await liveRows(orch);
          io.out.emit(rows, () => liveText(rows));
          return;
        }
        await untilInterrupted(async (signal) => {
          let shown = 0;
          while (!signal.aborted) {
            const header = `orch task live — ${new Date(orch.now()).toISOString().slice(11, 19)} UTC (Ctrl-C to stop)`;
            const lines = [header, '', ...liveText(await liveRows(orch)).split('\n')].map((l) => showControls(l).slice(0, process.stdout.columns || 200));
            // Back up over the last frame and clear below it, so the view updates in place.
            process.stdout.write(`${shown ? `\x1b[${shown}A\r` : ''}\x1b[J${lines.join('\n')}\n`);
            shown = lines.length;
            await pause(LIVE_REFRESH_MS, signal);
          }
        });
      }),
    );
}
