import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GitOptions, GitOutcome, GitRunner } from './git.js';

// A small process of its own starts the daemon's git commands. `spawn` is synchronous in Node and
// forks the whole calling process: from a daemon's heap that is several milliseconds a command,
// during which no agent output is read and no event is sent — and 32 tasks starting together run
// hundreds of them. Started from this process, whose heap is a fraction of the daemon's, a command
// costs the daemon one message each way, and its event loop keeps going meanwhile.

/** A command for the launcher (git-launcher-main.ts). */
export interface LaunchRequest {
  id: number;
  cwd: string;
  args: string[];
  options: GitOptions;
}

/** The launcher's answer to the request of the same id. */
export interface LaunchReply {
  id: number;
  outcome: GitOutcome;
}

export class GitLauncher implements GitRunner {
  private nextId = 0;
  private readonly pending = new Map<number, (outcome: GitOutcome) => void>();
  private stopped = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly fallback: GitRunner,
  ) {
    child.on('message', (reply: LaunchReply) => this.settle(reply.id, reply.outcome));
    child.on('exit', (code, signal) => {
      this.stopped = true;
      // What was in flight may or may not have run: its callers see a git that could not finish,
      // as when git is killed, and handle it as such.
      const why = `the git launcher stopped (${signal ?? `exit code ${code}`}) before git finished`;
      for (const id of [...this.pending.keys()]) this.settle(id, { ok: false, exitCode: null, stdout: '', stderr: why });
    });
    this.idle();
  }

  /** Starts the launcher; resolves once it answers, null when it cannot start (git then starts from here). */
  static async start(fallback: GitRunner): Promise<GitLauncher | null> {
    const script = launcherScript();
    if (!script) return null;
    const child = fork(script, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = await new Promise<boolean>((resolve) => {
      child.once('message', (message: unknown) => resolve(message === 'ready'));
      child.once('error', () => resolve(false));
      child.once('exit', () => resolve(false));
    });
    if (ready) return new GitLauncher(child, fallback);
    child.kill('SIGKILL');
    return null;
  }

  run(cwd: string, args: string[], options: GitOptions): Promise<GitOutcome> {
    if (this.stopped || !this.child.connected) return this.fallback.run(cwd, args, options);
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.busy();
      this.child.send({ id, cwd, args, options } satisfies LaunchRequest, (error) => {
        // Not sent (the launcher just went away): started from here instead.
        if (error && this.pending.delete(id)) {
          this.idle();
          resolve(this.fallback.run(cwd, args, options));
        }
      });
    });
  }

  /** Stops the launcher; commands asked for afterwards start from this process. */
  stop(): void {
    this.stopped = true;
    if (this.child.connected) this.child.disconnect();
  }

  private settle(id: number, outcome: GitOutcome): void {
    const resolve = this.pending.get(id);
    if (!resolve) return;
    this.pending.delete(id);
    this.idle();
    resolve(outcome);
  }

  // The channel keeps this process alive only while a command is out, as a child of its own would.
  private busy(): void {
    if (this.pending.size === 1) this.child.channel?.ref();
  }

  private idle(): void {
    if (this.pending.size === 0) {
      this.child.channel?.unref();
      this.child.unref();
    }
  }
}

/** The built launcher next to this module (dist/), else the build of the sources being run; null when neither exists. */
function launcherScript(): string | null {
  const candidates = ['./git-launcher-main.js', '../../dist/workspace/git-launcher-main.js'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  return candidates.find((path) => existsSync(path)) ?? null;
}
