import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../config/defaults.js';
import { EMPTY_RUN_SUMMARY, addRunEvent, classifyRunEnd, type KillReason, type RunVerdict } from '../core/outcome.js';
import { EMPTY_TOTALS, addBelievedToTotals, priceRun, type RunTotals } from '../core/usage.js';
import { MAX_RECORDED_DENIALS, sandboxDenialIn } from '../core/sandbox-denial.js';
import { accessAt } from '../core/sandbox-policy.js';
import { startProcess, type StartedProcess } from '../launcher/launcher.js';
import { openSandbox, type OpenedSandbox, type SandboxPlan } from '../sandbox/launch.js';
import type { AgentAdapter, AgentConfig, AgentEvent, ModelPrice, RunSpec } from './agent.js';
import { readOutputChunks, storedLine } from './output-lines.js';
import { RUN_MARK_VARIABLE, terminateGroup, terminateMarked } from './process-group.js';

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
  /** Ends the run as `output_limit` once stdout and stderr together pass this many bytes. */
  maxOutputBytes?: number;
  /** Bytes of one stdout line kept; the rest of a longer line is cut (and counted in a marker). */
  maxLineBytes?: number;
  /** Time between SIGTERM and SIGKILL when Orch stops a run. */
  graceMs?: number;
  /** Aborting it cancels the run (`cancelled`). */
  signal?: AbortSignal;
  /**
   * Each normalized event as it arrives, with the run's cost so far and the line of the log (from 1)
   * it was read from. Awaited in order.
   */
  onEvent?: (event: AgentEvent, costSoFarUsd: number | null, logLine: number) => void | Promise<void>;
  /** Called once the process exists, with its pid (also its process group id). */
  onSpawn?: (pid: number) => void | Promise<void>;
  /** Runs the CLI inside this sandbox (engine/run-sandbox.ts); null or absent: with Orch's own rights. */
  sandbox?: SandboxPlan | null;
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
  /** Lines kept only in part because they passed the line cap. */
  cutLines: number;
  /**
   * The first failure to store the run's output or events (a full disk, say): the run went on without
   * them. Null when everything was kept.
   */
  storageError: Error | null;
  /** Lines of stderr that report a write or read the sandbox refused (at most MAX_RECORDED_DENIALS). */
  sandboxDenials: string[];
}

const STDERR_TAIL = 4000;
/** How long a line waits for others to join its write to the log, and how much is written without waiting. */
const LOG_FLUSH_MS = 1000;
const LOG_FLUSH_BYTES = 64 * 1024;
/** A line longer than this is kept cut: no event or result block of a CLI comes near it. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** What to do about a start that failed because the arguments were too long (a `{prompt}` placeholder). */
const spawnHint = (error: Error) =>
  (error as NodeJS.ErrnoException).code === 'E2BIG' ? ' (an argument is longer than the system allows: read the prompt from stdin or $ORCH_PROMPT_FILE instead of {prompt})' : '';

/**
 * Runs one agent CLI to its end and says how it ended. The process gets its own process group, the
 * prompt on stdin (closed once written), a private HOME/config dir and only the environment the spec
 * carries. Orch stops it — the whole group, SIGTERM then SIGKILL — when it passes its time limit, goes
 * quiet for too long, spends past its budget, or is cancelled; and whatever happens, no process of the
 * group outlives the run.
 */
export async function superviseRun(options: SuperviseOptions): Promise<RunReport> {
  const { adapter, agent } = options;
  const sandboxPlan = options.sandbox ?? null;
  const spec = sandboxPlan ? { ...options.spec, sandboxed: true } : options.spec;
  const graceMs = options.graceMs ?? 5000;
  const invocation = adapter.invocation(spec, agent);
  // Off the event loop: 32 agents start together, and each synchronous call there waits for the disk.
  await mkdir(spec.runHome, { recursive: true, mode: 0o700 });
  for (const file of invocation.files) {
    const path = join(spec.runHome, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content, { mode: 0o600 });
  }
  // The agent's output may quote secrets it met: the logs are the owner's alone, like the rest of ORCH_HOME.
  await mkdir(dirname(options.logPath), { recursive: true, mode: 0o700 });
  let storageError: Error | null = null;
  const storageFailed = (error: Error) => {
    storageError ??= error;
  };
  // A write that fails (a full disk) must not end Orch: the run goes on, and the caller hears of it.
  const log = createWriteStream(options.logPath, { flags: 'a', mode: 0o600 }).on('error', storageFailed);
  const errLog = createWriteStream(options.logPath.replace(/\.jsonl$/, '') + '.stderr.log', { flags: 'a', mode: 0o600 }).on('error', storageFailed);
  // Lines go to the log a batch at a time: a write per line was a large part of the daemon's work
  // with many agents talking at once. The log is the record, read after the fact; the live views
  // read the events.
  let logPending = '';
  let logTimer: NodeJS.Timeout | null = null;
  const flushLog = () => {
    if (logTimer) clearTimeout(logTimer);
    logTimer = null;
    if (logPending === '') return;
    log.write(logPending);
    logPending = '';
  };
  const writeLog = (text: string) => {
    logPending += text;
    if (logPending.length >= LOG_FLUSH_BYTES) flushLog();
    else logTimer ??= setTimeout(flushLog, LOG_FLUSH_MS);
  };
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let outputBytes = 0;
  let cutLines = 0;
  let logLines = 0;

  const started = Date.now();
  let killedFor: KillReason | null = null;
  let summary = EMPTY_RUN_SUMMARY;
  let totals = EMPTY_TOTALS;
  let sessionId: string | null = spec.resumeSessionId;
  let finalText: string | null = null;
  let stderrTail = '';
  let lastActivity = Date.now();

  const sandboxDenials: string[] = [];
  const writable = (path: string) => {
    const access = sandboxPlan ? accessAt(sandboxPlan.policy, path) : 'writable';
    return access === 'writable' || access === 'scratch';
  };
  let stderrPartial = '';
  const noteDenials = (text: string) => {
    const lines = (stderrPartial + text).split('\n');
    stderrPartial = lines.pop()!.slice(-4000);
    for (const line of lines) {
      const denial = sandboxDenialIn(line, writable);
      if (denial === null || sandboxDenials.length >= MAX_RECORDED_DENIALS) continue;
      sandboxDenials.push(denial);
      errLog.write(`[orch] sandbox denial: ${denial}\n`);
    }
  };

  let child: StartedProcess;
  let sandbox: OpenedSandbox | null = null;
  try {
    const env = { ...invocation.env, [RUN_MARK_VARIABLE]: options.logPath };
    sandbox = sandboxPlan ? await openSandbox(sandboxPlan, invocation.command, invocation.args, spec.cwd, env) : null;
    // Its own process group, the prompt written to stdin and stdin closed.
    child = await startProcess(sandbox?.command ?? invocation.command, sandbox?.args ?? invocation.args, { cwd: spec.cwd, env: sandbox?.env ?? env, stdin: invocation.stdin, nice: options.agent.nice });
  } catch (error) {
    // Some failures (E2BIG among them) are thrown rather than emitted: the run still ends, crashed.
    await Promise.all([new Promise((r) => log.end(r)), new Promise((r) => errLog.end(r))]);
    await sandbox?.close();
    const reason = `could not start ${invocation.command}: ${(error as Error).message}${spawnHint(error as Error)}`;
    return { outcome: 'crashed', reason, exitCode: null, signal: null, killedFor: null, pid: null, sessionId, totals, costUsd: null, finalText: null, durationMs: Date.now() - started, stderrTail: '', cutLines: 0, storageError, sandboxDenials };
  }
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
  // A usage or cost report that cannot be true is left out of the totals, and said so as an event.
  const believed = (event: AgentEvent): AgentEvent => {
    if (event.type !== 'usage' && event.type !== 'cost') return event;
    const next = addBelievedToTotals(totals, event);
    if (next.ok) {
      totals = next.totals;
      return event;
    }
    const { type: _type, ...report } = event;
    return { type: 'usage_refused', reason: next.reason, report };
  };
  const overLimit = () => outputBytes > maxOutputBytes;
  const countOutput = (bytes: number) => {
    lastActivity = Date.now();
    outputBytes += bytes;
    if (overLimit()) stop('output_limit');
  };
  const readStdout = (async () => {
    for await (const outputs of readOutputChunks(child.stdout!, maxLineBytes, countOutput)) {
      for (const output of outputs) {
        // Past the limit the rest is read only to let the process end; nothing more is kept.
        if (overLimit()) break;
        const line = storedLine(output);
        if (output.cutBytes > 0) cutLines++;
        writeLog(`${line}\n`);
        logLines++;
        for (const parsed of parse(line)) {
          const event = believed(parsed);
          summary = addRunEvent(summary, event);
          if (event.type === 'session_started') sessionId = event.sessionId;
          // The final message is the text after the agent's last tool use; the CLI's own result text wins.
          if (event.type === 'tool_call' || event.type === 'tool_result') finalText = null;
          if (event.type === 'assistant_text') finalText = finalText === null ? event.text : `${finalText}\n${event.text}`;
          if (event.type === 'result' && event.text) finalText = event.text;
          const cost = costSoFar();
          try {
            // Awaited only when it returns a promise: most events are queued without one.
            const handled = options.onEvent?.(event, cost, logLines);
            if (handled) await handled;
          } catch (error) {
            storageFailed(error as Error);
          }
          if (options.budgetUsd !== null && cost !== null && cost > options.budgetUsd) stop('budget');
        }
      }
    }
  })();
  readStdout.catch(() => undefined);
  child.stderr!.on('data', (chunk: Buffer) => {
    countOutput(chunk.length);
    if (overLimit()) return;
    errLog.write(chunk);
    const text = chunk.toString('utf8');
    stderrTail = (stderrTail + text).slice(-STDERR_TAIL);
    if (sandboxPlan) noteDenials(text);
  });

  const exit = await exited;
  // The CLI is gone; tool processes it left in its group are not allowed to outlive it.
  if (pid !== null) stopping ??= terminateGroup(pid, Math.min(graceMs, 1000));
  await stopping;
  // Nor may those that left its group: they would hold its output open and outlive the run.
  await terminateMarked(options.logPath, Math.min(graceMs, 1000));
  await readStdout.catch(() => undefined);
  for (const timer of timers) clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  if (sandboxPlan && stderrPartial !== '') noteDenials('\n');
  await sandbox?.close();
  // Connections the network's proxy refused, named by the proxy itself rather than guessed from stderr.
  for (const denial of sandbox?.denials() ?? []) {
    if (sandboxDenials.length >= MAX_RECORDED_DENIALS) break;
    sandboxDenials.push(denial);
    errLog.write(`[orch] sandbox denial: ${denial}\n`);
  }
  flushLog();
  await Promise.all([new Promise((r) => log.end(r)), new Promise((r) => errLog.end(r))]);

  const verdict: RunVerdict = exit.spawnError
    ? { outcome: 'crashed', reason: `could not start ${invocation.command}: ${exit.spawnError.message}${spawnHint(exit.spawnError)}` }
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
    cutLines,
    storageError,
    sandboxDenials,
  };
}
