import type { SandboxFor } from '../sandbox/launch.js';
import type { Command, ProjectSettings } from '../config/schema.js';
import { commandPassed, describeCommand, runCommand } from './commands.js';

// A project's hooks: its own commands run in a task's worktree at points of the worktree's life. The
// command text is the project's config; the task's (title, branch) reaches it only as environment
// variables, so a title like `$(touch x)` is data the hook may print, never code the shell runs.

export const HOOK_NAMES = ['after_create', 'before_run', 'after_run', 'before_remove'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/**
 * Whether a failing hook stops the attempt. A worktree that could not be prepared (`after_create`,
 * `before_run`) is not worth running an agent in; a failing clean-up (`after_run`, `before_remove`)
 * is logged and the work goes on. The caller decides; this is the rule it should apply.
 */
export function hookIsFatal(name: HookName): boolean {
  return name === 'after_create' || name === 'before_run';
}

const CONFIG_KEYS = {
  after_create: 'afterCreate',
  before_run: 'beforeRun',
  after_run: 'afterRun',
  before_remove: 'beforeRemove',
} as const satisfies Record<HookName, keyof ProjectSettings['hooks']>;

/** The command a project configures for a hook, or null. */
export function configuredHook(hooks: ProjectSettings['hooks'], name: HookName): Command | null {
  return hooks[CONFIG_KEYS[name]];
}

/** The task a hook runs for, handed to it as ORCH_* variables; a pull worker's has none yet (id null). */
export interface HookTask {
  id: number | null;
  title: string;
  branch: string;
  worktree: string;
}

export interface HookOptions {
  cwd: string;
  /** The whole environment of the hook (PATH included) before the ORCH_* task variables. */
  env: Record<string, string>;
  timeoutMs: number;
  task: HookTask;
  /** Characters of output kept, from the end. Default 4000. */
  outputLimit?: number;
  /** The sandbox the hook runs in; null or absent: none. */
  sandbox?: SandboxFor | null;
}

export interface HookResult {
  name: HookName;
  /** The command as it reads in logs; null when the project has none for this hook. */
  command: string | null;
  /** False when there was nothing to run (which counts as passed). */
  ran: boolean;
  passed: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** The limit it ran under, so a message can say how long it was given. */
  timeoutMs: number;
  /** The end of stdout and stderr, interleaved; a start failure's message when it could not start. */
  outputTail: string;
  durationMs: number;
}

/** The variables a hook gets besides the caller's environment. */
export function hookEnvironment(name: HookName, task: HookTask): Record<string, string> {
  return {
    ORCH_HOOK: name,
    ...(task.id === null
      ? {}
      : {
          ORCH_TASK_ID: String(task.id),
          // An environment value cannot hold a NUL byte (the only character a title could have that
          // one cannot carry); dropping it is the one change a title undergoes.
          ORCH_TASK_TITLE: task.title.replaceAll('\0', ''),
        }),
    ORCH_BRANCH: task.branch,
    ORCH_WORKTREE: task.worktree,
  };
}

/**
 * Runs one hook with runCommand: its own process group, stdin closed, stopped with everything it
 * started at `timeoutMs`. Never throws for a failing hook; the result says what happened.
 */
export async function runHook(name: HookName, command: Command | null, options: HookOptions): Promise<HookResult> {
  if (command === null) {
    return { name, command: null, ran: false, passed: true, exitCode: null, timedOut: false, timeoutMs: options.timeoutMs, outputTail: '', durationMs: 0 };
  }
  const run = await runCommand(command, {
    cwd: options.cwd,
    env: { ...options.env, ...hookEnvironment(name, options.task) },
    timeoutMs: options.timeoutMs,
    outputLimit: options.outputLimit ?? 4000,
    sandbox: options.sandbox ?? null,
  });
  return {
    name,
    command: describeCommand(command),
    ran: true,
    passed: commandPassed(run),
    exitCode: run.exitCode,
    timedOut: run.timedOut,
    timeoutMs: options.timeoutMs,
    outputTail: run.spawnError ?? run.output,
    durationMs: run.durationMs,
  };
}

/** Why a hook did not pass, for a person: a timeout says so and how long the hook had, then the end of its output. */
export function hookFailure(result: HookResult): string {
  const what = result.timedOut ? `timed out after ${formatSeconds(result.timeoutMs)}` : 'failed';
  const tail = result.outputTail.slice(-500);
  return `the ${result.name} hook ${what}${tail ? `: ${tail}` : ''}`;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
