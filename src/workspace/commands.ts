import { spawn } from 'node:child_process';
import type { Command } from '../config/schema.js';
import { terminateGroup } from '../agents/process-group.js';
import { openSandbox, type SandboxFor } from '../sandbox/launch.js';

export interface CommandRun {
  /** null when the command was killed or could not start. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** stdout and stderr interleaved, the last `outputLimit` characters. */
  output: string;
  durationMs: number;
  /** Set when the program could not be started at all. */
  spawnError: string | null;
}

export interface CommandOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  outputLimit?: number;
  /** Runs the command inside this sandbox (engine/run-sandbox.ts); null or absent: with Orch's own rights. */
  sandbox?: SandboxFor | null;
}

/** How a configured command reads in logs and verdicts. */
export function describeCommand(command: Command): string {
  return Array.isArray(command) ? command.join(' ') : command.shell;
}

/**
 * Runs a configured command (hooks, judge): an argv list runs the program directly; `{shell}` runs
 * `sh -c` with the config's own text. Nothing from a task ever goes into either: task data reaches
 * commands only through environment variables the caller sets. The command gets its own process
 * group, stdin closed, and is stopped — with everything it started — at its time limit.
 */
export async function runCommand(command: Command, options: CommandOptions): Promise<CommandRun> {
  const [program, ...args] = Array.isArray(command) ? command : ['sh', '-c', command.shell];
  const limit = options.outputLimit ?? 64_000;
  const started = Date.now();
  let output = '';
  let timedOut = false;
  const plan = options.sandbox?.(options.cwd, program!) ?? null;
  const sandbox = plan ? await openSandbox(plan, program!, args, options.cwd, options.env) : null;
  const child = spawn(sandbox?.command ?? program!, sandbox?.args ?? args, { cwd: options.cwd, env: sandbox?.env ?? options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-limit);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  let stopping: Promise<void> | null = null;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined) stopping = terminateGroup(child.pid, 2000);
  }, options.timeoutMs);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const end = await new Promise<{ code: number | null; signal: string | null; error: Error | null }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal, error: null }));
  });
  clearTimeout(timer);
  // Whatever the command left running in its group (a server it forgot) goes with it; then its
  // output pipes close.
  if (child.pid !== undefined) await (stopping ?? terminateGroup(child.pid, 1000));
  if (end.error === null) await closed;
  await sandbox?.close();
  return {
    exitCode: end.code,
    signal: end.signal,
    timedOut,
    output,
    durationMs: Date.now() - started,
    spawnError: end.error ? end.error.message : null,
  };
}

/** True when the command ran to completion and exited 0. */
export const commandPassed = (run: CommandRun) => run.exitCode === 0 && !run.timedOut;
