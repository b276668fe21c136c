// Runs one CLI process the way the supervisor will: its own process group, stdin closed (an open stdin pipe
// hangs codex and slows claude), output captured, and the whole group killed at the deadline and afterwards so
// no helper process outlives the test.

import { spawn } from 'node:child_process';

export interface CliRunOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
}

export interface CliRunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout lines that parse as JSON objects, in order. */
  events: Record<string, unknown>[];
  timedOut: boolean;
  durationMs: number;
}

export interface RunningCli {
  pid: number | undefined;
  result: Promise<CliRunResult>;
  /** Signals the CLI's whole process group, as the supervisor does. */
  signalGroup(signal: NodeJS.Signals): void;
}

export function runCli(argv: string[], options: CliRunOptions): Promise<CliRunResult> {
  return startCli(argv, options).result;
}

export function startCli(argv: string[], options: CliRunOptions): RunningCli {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('startCli: empty argv');
  const started = Date.now();
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    killProcessGroup(child.pid, 'SIGKILL');
  }, options.timeoutMs);

  const result = new Promise<CliRunResult>((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    // Helpers the CLI left behind may hold its stdout open: end them when it exits, then wait for the pipes.
    child.once('exit', () => {
      clearTimeout(deadline);
      killProcessGroup(child.pid, 'SIGKILL');
    });
    child.once('close', (exitCode, signal) => {
      resolve({ exitCode, signal, stdout, stderr, events: jsonLines(stdout), timedOut, durationMs: Date.now() - started });
    });
  });
  return { pid: child.pid, result, signalGroup: (signal) => killProcessGroup(child.pid, signal) };
}

/** Signals every process in the group led by `pid`; a group that is already gone is fine. */
export function killProcessGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export function jsonLines(text: string): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not every line a CLI prints is an event.
    }
  }
  return events;
}
