import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { EMPTY_RUN_SUMMARY, addRunEvent, classifyRunEnd, type KillReason, type RunVerdict } from '../core/outcome.js';
import { EMPTY_TOTALS, addToTotals, priceRun, type RunTotals } from '../core/usage.js';
import type { AgentAdapter, AgentConfig, AgentEvent, ModelPrice, RunSpec } from './agent.js';
import { terminateGroup } from './process-group.js';

export interface SuperviseOptions {
  adapter: AgentAdapter;
  agent: AgentConfig;
  spec: RunSpec;
  /** Where the CLI's stdout is kept, line for line (`runs/<run>/agent.jsonl`); stderr goes beside it. */
  logPath: string;
  /** Ends the run as `timed_out` after this long; null: no limit. */
  timeoutMs: number | null;
  /** Ends the run as `stalled` when it prints nothing for this long; null: never. */
  stallMs: number | null;
  /** Ends the run as `budget_exceeded` once its cost passes this; null: no cap. */
  budgetUsd: number | null;
  prices: Record<string, ModelPrice>;
  /** Time between SIGTERM and SIGKILL when Orch stops a run. */
  graceMs?: number;
  /** Aborting it cancels the run (`cancelled`). */
  signal?: AbortSignal;
  /** Each normalized event as it arrives, with the run's cost so far. Awaited in order. */
  onEvent?: (event: AgentEvent, costSoFarUsd: number | null) => void | Promise<void>;
  /** Called once the process exists, with its pid (also its process group id). */
  onSpawn?: (pid: number) => void | Promise<void>;
}

export interface RunReport extends RunVerdict {
  exitCode: number | null;
  signal: string | null;
  killedFor: KillReason | null;
  pid: number | null;
  sessionId: string | null;
  totals: RunTotals;
  /** The CLI's reported cost, else tokens priced from the table; null when neither is known. */
  costUsd: number | null;
  /** The agent's final message (its text after its last tool use), where the result block is looked for. */
  finalText: string | null;
  durationMs: number;
  /** The last lines the CLI wrote to stderr, for failure reasons. */
  stderrTail: string;
}

const STDERR_TAIL = 4000;

/**
 * Runs one agent CLI to its end and says how it ended. The process gets its own process group, stdin
 * closed, a private HOME/config dir and only the environment the spec carries. Orch stops it — the
 * whole group, SIGTERM then SIGKILL — when it passes its time limit, goes quiet for too long, spends
 * past its budget, or is cancelled; and whatever happens, no process of the group outlives the run.
 */
export async function superviseRun(options: SuperviseOptions): Promise<RunReport> {
  const { adapter, agent, spec } = options;
  const graceMs = options.graceMs ?? 5000;
  const invocation = adapter.invocation(spec, agent);
  mkdirSync(spec.runHome, { recursive: true, mode: 0o700 });
  for (const file of invocation.files) {
    const path = join(spec.runHome, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content, { mode: 0o600 });
  }
  // The agent's output may quote secrets it met: the logs are the owner's alone, like the rest of ORCH_HOME.
  mkdirSync(dirname(options.logPath), { recursive: true, mode: 0o700 });
  const log = createWriteStream(options.logPath, { flags: 'a', mode: 0o600 });
  const errLog = createWriteStream(options.logPath.replace(/\.jsonl$/, '') + '.stderr.log', { flags: 'a', mode: 0o600 });

  const started = Date.now();
  let killedFor: KillReason | null = null;
  let summary = EMPTY_RUN_SUMMARY;
  let totals = EMPTY_TOTALS;
  let sessionId: string | null = spec.resumeSessionId;
  let finalText: string | null = null;
  let stderrTail = '';
  let lastActivity = Date.now();

  const child = spawn(invocation.command, invocation.args, {
    cwd: spec.cwd,
    env: invocation.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid ?? null;
  const exited = new Promise<{ code: number | null; signal: string | null; spawnError: Error | null }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, spawnError: error }));
    child.once('exit', (code, signal) => resolve({ code, signal, spawnError: null }));
  });

  let stopping: Promise<void> | null = null;
  const stop = (reason: KillReason) => {
    if (killedFor === null) killedFor = reason;
    if (pid !== null) stopping ??= terminateGroup(pid, graceMs);
  };

  const timers: NodeJS.Timeout[] = [];
  if (options.timeoutMs !== null) timers.push(setTimeout(() => stop('timeout'), options.timeoutMs));
  if (options.stallMs !== null) {
    const stallMs = options.stallMs;
    timers.push(setInterval(() => Date.now() - lastActivity > stallMs && stop('stall'), Math.min(1000, Math.max(50, stallMs / 4))));
  }
  const onAbort = () => stop('cancel');
  if (options.signal?.aborted) stop('cancel');
  options.signal?.addEventListener('abort', onAbort, { once: true });

  if (pid !== null) await options.onSpawn?.(pid);

  const costSoFar = () => priceRun(totals, options.prices, spec.model ?? agent.model);
  const parse = adapter.createParser();
  const readStdout = (async () => {
    for await (const line of createInterface({ input: child.stdout!, crlfDelay: Infinity })) {
      lastActivity = Date.now();
      log.write(`${line}\n`);
      for (const event of parse(line)) {
        summary = addRunEvent(summary, event);
        totals = addToTotals(totals, event);
        if (event.type === 'session_started') sessionId = event.sessionId;
        // The final message is the text after the agent's last tool use; the CLI's own result text wins.
        if (event.type === 'tool_call' || event.type === 'tool_result') finalText = null;
        if (event.type === 'assistant_text') finalText = finalText === null ? event.text : `${finalText}\n${event.text}`;
        if (event.type === 'result' && event.text) finalText = event.text;
        const cost = costSoFar();
        await options.onEvent?.(event, cost);
        if (options.budgetUsd !== null && cost !== null && cost > options.budgetUsd) stop('budget');
      }
    }
  })();
  child.stderr!.on('data', (chunk: Buffer) => {
    lastActivity = Date.now();
    errLog.write(chunk);
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });

  const exit = await exited;
  // The CLI is gone; tool processes it left in its group are not allowed to outlive it.
  if (pid !== null) stopping ??= terminateGroup(pid, Math.min(graceMs, 1000));
  await stopping;
  await readStdout.catch(() => undefined);
  for (const timer of timers) clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  await Promise.all([new Promise((r) => log.end(r)), new Promise((r) => errLog.end(r))]);

  const verdict: RunVerdict = exit.spawnError
    ? { outcome: 'crashed', reason: `could not start ${invocation.command}: ${exit.spawnError.message}` }
    : classifyRunEnd({
        exitCode: exit.code,
        signal: exit.signal,
        killedFor,
        events: summary,
        resultExpected: adapter.reportsResult,
      });
  return {
    ...verdict,
    exitCode: exit.code,
    signal: exit.signal,
    killedFor,
    pid,
    sessionId,
    totals,
    costUsd: costSoFar(),
    finalText,
    durationMs: Date.now() - started,
    stderrTail,
  };
}
