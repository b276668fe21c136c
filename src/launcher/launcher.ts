import { fork, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runGitHere, useGitRunner, type GitOptions, type GitOutcome, type GitRunner } from '../workspace/git.js';
import { atLowerPriority } from './priority.js';
import type { LaunchReply, LaunchRequest, SpawnRequest } from './protocol.js';

// A small process of its own starts the daemon's git commands and agent CLIs. `spawn` is synchronous
// in Node and forks the whole calling process: from a daemon's heap that is several milliseconds a
// process — tens while 32 agents start on two cores — during which no agent output is read and no
// event is sent. Started from the launcher, whose heap is a fraction of the daemon's, a git command
// costs the daemon a message each way; an agent's stdout and stderr come back as the pipes
// themselves (handles passed over the channel), so its output is read by the daemon with no copy.

/** A process started through `startProcess`: what the agent supervisor uses of a ChildProcess. */
export interface StartedProcess extends EventEmitter {
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
}

export interface StartOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Written to the process's stdin, which is then closed; null: no stdin. */
  stdin: string | null;
  /** Steps below Orch's priority the process and everything it starts run at (priority.ts); absent or 0: the same. */
  nice?: number;
}

/** A process the launcher started, as the daemon sees it: its pipes, its exit told by message. */
class LaunchedProcess extends EventEmitter implements StartedProcess {
  readonly stdin = null;
  stdout: Socket | null = null;
  readonly stderr = new PassThrough();
  constructor(readonly pid: number) {
    super();
  }
}

interface PendingSpawn {
  resolve: (started: LaunchedProcess) => void;
  reject: (error: Error) => void;
  process: LaunchedProcess | null;
}

export class Launcher implements GitRunner {
  private nextId = 0;
  private readonly pendingGit = new Map<number, (outcome: GitOutcome) => void>();
  private readonly spawns = new Map<number, PendingSpawn>();
  private stopped = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: LaunchReply, handle?: Socket) => this.receive(reply, handle));
    child.on('exit', (code, signal) => {
      this.stopped = true;
      // What was in flight may or may not have run: its callers see a git that could not finish, as
      // when git is killed. A process already started lives on; its exit, no longer told, is taken
      // to be the end of its output.
      const why = `the launcher stopped (${signal ?? `exit code ${code}`})`;
      for (const id of [...this.pendingGit.keys()]) this.settleGit(id, { ok: false, exitCode: null, stdout: '', stderr: `${why} before git finished` });
      for (const [id, pending] of [...this.spawns]) {
        this.spawns.delete(id);
        if (pending.process) exitWhenOutputEnds(pending.process);
        else pending.reject(new Error(`${why} before the process started`));
      }
      this.refWhileBusy();
    });
    this.refWhileBusy();
  }

  /** Starts the launcher; resolves once it answers, null when it cannot start. */
  static async start(): Promise<Launcher | null> {
    const script = launcherScript();
    if (!script) return null;
    // A debugger's port is the daemon's: a launcher started with the same `--inspect` would fight it for it.
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--inspect'));
    const child = fork(script, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = await new Promise<boolean>((resolve) => {
      child.once('message', (message: unknown) => resolve(message === 'ready'));
      child.once('error', () => resolve(false));
      child.once('exit', () => resolve(false));
    });
    if (ready) return new Launcher(child);
    child.kill('SIGKILL');
    return null;
  }

  get running(): boolean {
    return !this.stopped && this.child.connected;
  }

  run(cwd: string, args: string[], options: GitOptions): Promise<GitOutcome> {
    if (!this.running) return runGitHere(cwd, args, options);
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.pendingGit.set(id, resolve);
      this.send({ kind: 'git', id, cwd, args, options }, () => {
        // Not sent (the launcher just went away): started from here instead.
        if (this.pendingGit.delete(id)) resolve(runGitHere(cwd, args, options));
      });
    });
  }

  spawn(command: string, args: string[], options: StartOptions): Promise<StartedProcess> {
    if (!this.running) return Promise.resolve(spawnHere(command, args, options));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.spawns.set(id, { resolve, reject, process: null });
      const request: SpawnRequest = { kind: 'spawn', id, command, args, cwd: options.cwd, env: options.env, stdin: options.stdin, nice: options.nice };
      this.send(request, () => {
        if (this.spawns.delete(id)) resolve(spawnHere(command, args, options));
      });
    });
  }

  /** Stops the launcher; what is asked for afterwards starts from this process. */
  stop(): void {
    this.stopped = true;
    if (this.child.connected) this.child.disconnect();
  }

  private send(request: LaunchRequest, unsent: () => void): void {
    this.refWhileBusy();
    this.child.send(request, (error) => {
      if (!error) return;
      unsent();
      this.refWhileBusy();
    });
  }

  private receive(reply: LaunchReply, handle: Socket | undefined): void {
    if (reply.kind === 'git') return this.settleGit(reply.id, reply.outcome);
    const pending = this.spawns.get(reply.id);
    if (!pending) {
      handle?.destroy();
      return;
    }
    if (reply.kind === 'spawn_failed') {
      this.spawns.delete(reply.id);
      this.refWhileBusy();
      pending.reject(Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {}));
    } else if (reply.kind === 'output') {
      pending.process = new LaunchedProcess(reply.pid);
      pending.process.stdout = handle ?? null;
      pending.resolve(pending.process);
    } else if (reply.kind === 'stderr') {
      pending.process?.stderr.write(reply.chunk);
    } else {
      this.spawns.delete(reply.id);
      this.refWhileBusy();
      const started = pending.process;
      started?.stderr.end();
      if (started) setImmediate(() => started.emit('exit', reply.code, reply.signal));
    }
  }

  private settleGit(id: number, outcome: GitOutcome): void {
    const resolve = this.pendingGit.get(id);
    if (!resolve) return;
    this.pendingGit.delete(id);
    this.refWhileBusy();
    resolve(outcome);
  }

  // The channel keeps this process alive only while something is out, as a child of its own would.
  private refWhileBusy(): void {
    if (this.pendingGit.size + this.spawns.size > 0) this.child.channel?.ref();
    else {
      this.child.channel?.unref();
      this.child.unref();
    }
  }
}

let processLauncher: Launcher | null = null;

/** Where git commands and processes (agent CLIs) start from now on: a launcher each, or this process (null). */
export function useLauncher(next: { git: Launcher | null; processes: Launcher | null }): void {
  processLauncher = next.processes;
  useGitRunner(next.git);
}

/** Starts a process in its own process group with piped output, from the launcher when one is in use. */
export function startProcess(command: string, args: string[], options: StartOptions): Promise<StartedProcess> {
  return processLauncher ? processLauncher.spawn(command, args, options) : Promise.resolve(spawnHere(command, args, options));
}

/** startProcess, from this process. */
export function spawnHere(command: string, args: string[], options: StartOptions): ChildProcess {
  const [file, argv] = atLowerPriority(command, args, options.nice, options.env, options.cwd);
  const child = spawn(file, argv, { cwd: options.cwd, env: options.env, stdio: [options.stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: true });
  if (child.stdin) {
    // A program that exits without reading it all closes the pipe: that is its business, not an error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin);
  }
  return child;
}

/** A process whose exit nobody will tell: it is taken to have exited when its output ends. */
function exitWhenOutputEnds(started: LaunchedProcess): void {
  // Its stderr came through the launcher: nothing more of it will.
  started.stderr.end();
  const stdout = started.stdout;
  void (stdout && !stdout.readableEnded && !stdout.destroyed ? new Promise((resolve) => stdout.once('close', resolve)) : Promise.resolve()).then(() => started.emit('exit', null, null));
}

/** The built launcher next to this module (dist/), else the build of the sources being run; null when neither exists. */
function launcherScript(): string | null {
  const candidates = ['./main.js', '../../dist/launcher/main.js'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  return candidates.find((path) => existsSync(path)) ?? null;
}
