import type { GitOptions, GitOutcome } from '../workspace/git.js';

// The messages between the daemon and its launcher (launcher.ts, main.ts).

export interface GitRequest {
  kind: 'git';
  id: number;
  cwd: string;
  args: string[];
  options: GitOptions;
}

export interface SpawnRequest {
  kind: 'spawn';
  id: number;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin: string | null;
  /** Steps below the launcher's priority it runs at (`nice`); absent: the same. */
  nice?: number;
}

export type LaunchRequest = GitRequest | SpawnRequest;

export type LaunchReply =
  | { kind: 'git'; id: number; outcome: GitOutcome }
  /** The started process's stdout pipe, passed as the handle of this message. */
  | { kind: 'output'; id: number; pid: number }
  /** Output of its stderr. */
  | { kind: 'stderr'; id: number; chunk: Buffer }
  | { kind: 'spawn_failed'; id: number; message: string; code: string | null }
  | { kind: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null };
