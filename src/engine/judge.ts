// The judge: is a task's branch good enough to merge? It runs the project's test command, its lint
// command as a delta against the base (a change may not add lint problems, but need not fix old
// ones), checks which files changed against the scope rules and the task's role, and — when a review
// agent is given — asks it. The decisions are pure (core/scope, core/review, core/verdict); this file
// runs the commands and git.

import type { SandboxFor } from '../sandbox/launch.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitError, tryGit } from '../workspace/git.js';
import type { Command, ProjectSettings } from '../config/schema.js';
import { buildReviewPrompt, parseReviewAnswer, type ReviewTask } from '../core/review.js';
import { checkScope } from '../core/scope.js';
import type { Role } from '../core/types.js';
import { verdictOf, type Check, type Verdict } from '../core/verdict.js';
import { commandPassed, describeCommand, runCommand, type CommandRun } from '../workspace/commands.js';

/** Runs a review agent on a prompt and returns its final text (null when it gave none). */
export interface ReviewRunner {
  run: (prompt: string) => Promise<string | null>;
}

export interface JudgeInput {
  /** A worktree with `headSha` checked out and nothing uncommitted: tests and lint run here. */
  worktree: string;
  /** What the change is judged against (the default branch's tip the branch was rebased onto). */
  baseSha: string;
  headSha: string;
  settings: ProjectSettings['judge'];
  role: Role;
  /**
   * The whole environment of the test and lint commands; nothing of Orch's own is added. Task text
   * never reaches a command's argv or shell string: only the config's own commands run.
   */
  env: Record<string, string>;
  /** The task, as the review agent is shown it. */
  task: ReviewTask;
  /** The review agent; null or absent: no review. */
  review?: ReviewRunner | null;
  /**
   * Makes a fresh checkout of the base ready to lint (the project's `after_create` hook, copied files),
   * when linting needs more than the committed files. Called with the temporary base worktree.
   */
  prepareBaseWorktree?: (dir: string) => Promise<void>;
  /** The sandbox the test and lint commands run in; null or absent: none. */
  sandbox?: SandboxFor | null;
}

/**
 * The verdict on a branch: tests, lint delta, scope, then the review — which runs only when the other
 * checks passed, since a failed check already decides and a review costs a model run. Problems of the
 * checked code are failed checks; a git failure (a missing commit, a worktree not at `headSha`) throws.
 */
export async function judgeBranch(input: JudgeInput): Promise<Verdict> {
  await assertCheckedOut(input.worktree, input.headSha);
  const tests = await testsCheck(input);
  const lint = await lintCheck(input);
  const scope = await scopeCheck(input);
  const othersPassed = [tests, lint, scope].every((check) => check.passed);
  const review = await reviewCheck(input, othersPassed);
  return verdictOf([tests, lint, scope, review]);
}

// ---------------------------------------------------------------- tests

async function testsCheck(input: JudgeInput): Promise<Check> {
  const command = input.settings.test;
  if (command === null) return { name: 'tests', passed: true, skipped: true, detail: 'no test command configured (judge.test)' };
  const run = await runJudgeCommand(command, input.worktree, input);
  const passed = commandPassed(run);
  return {
    name: 'tests',
    passed,
    detail: `${shortCommand(command)}: ${describeEnd(run, input.settings.timeoutS)}`,
    ...(passed ? {} : { output: run.output }),
    durationMs: run.durationMs,
  };
}

// ---------------------------------------------------------------- lint, as a delta against the base

/** Lint output is counted, not just shown, so more of it is kept than a tail. */
const LINT_OUTPUT_LIMIT = 4_000_000;

/** How the base commit lints: clean, or failing with this many problems. */
type LintBaseline = { clean: true } | { clean: false; problems: number };

/**
 * Baselines by base commit and lint command, for the life of the process: every task judged against
 * the same tip of the default branch shares one base run. The promise is cached so concurrent judges
 * share it too; a run that could not establish a baseline is dropped so the next judge tries again.
 */
const lintBaselines = new Map<string, Promise<LintBaseline>>();

async function lintCheck(input: JudgeInput): Promise<Check> {
  const command = input.settings.lint;
  if (command === null) return { name: 'lint', passed: true, skipped: true, detail: 'no lint command configured (judge.lint)' };
  const label = shortCommand(command);
  const head = await runJudgeCommand(command, input.worktree, input, LINT_OUTPUT_LIMIT);
  if (commandPassed(head)) return { name: 'lint', passed: true, detail: `${label}: clean`, durationMs: head.durationMs };
  const failed = (detail: string, durationMs = head.durationMs): Check => ({
    name: 'lint',
    passed: false,
    detail: `${label}: ${detail}`,
    output: keepTail(head.output),
    durationMs,
  });
  if (head.timedOut || head.spawnError !== null || head.exitCode === null) return failed(describeEnd(head, input.settings.timeoutS));

  const baseStarted = Date.now();
  let baseline: LintBaseline;
  try {
    baseline = await lintBaseline(command, input);
  } catch (error) {
    return failed(`fails (${countProblems(countLintProblems(head.output))}), and the base could not be linted to compare: ${errorMessage(error)}`);
  }
  const durationMs = head.durationMs + (Date.now() - baseStarted);
  const headProblems = countLintProblems(head.output);
  if (baseline.clean) return failed(`${countProblems(headProblems)}; the base is clean`, durationMs);
  if (headProblems > baseline.problems) {
    return failed(`${countProblems(headProblems)}, ${headProblems - baseline.problems} more than the base's ${baseline.problems}`, durationMs);
  }
  return {
    name: 'lint',
    passed: true,
    detail: `${label}: ${countProblems(headProblems)}, none added (the base has ${baseline.problems})`,
    durationMs,
  };
}

function lintBaseline(command: Command, input: JudgeInput): Promise<LintBaseline> {
  const key = `${input.baseSha}\0${JSON.stringify(command)}`;
  let baseline = lintBaselines.get(key);
  if (baseline === undefined) {
    baseline = lintBase(command, input);
    lintBaselines.set(key, baseline);
    baseline.catch(() => lintBaselines.delete(key));
  }
  return baseline;
}

/** Lints the base commit in a temporary detached worktree, removed afterwards whatever happens. */
async function lintBase(command: Command, input: JudgeInput): Promise<LintBaseline> {
  return withDetachedWorktree(input.worktree, input.baseSha, async (dir) => {
    await input.prepareBaseWorktree?.(dir);
    const run = await runJudgeCommand(command, dir, input, LINT_OUTPUT_LIMIT);
    if (commandPassed(run)) return { clean: true };
    if (run.timedOut || run.spawnError !== null || run.exitCode === null) {
      throw new Error(`on the base it ${describeEnd(run, input.settings.timeoutS)}`);
    }
    return { clean: false, problems: countLintProblems(run.output) };
  });
}

/**
 * How many problems a failing lint run reported. The heuristic, the same for head and base so only the
 * difference matters: every non-empty line counts as one finding, except a last line that reads like
 * a summary ("✖ 3 problems (3 errors, 0 warnings)", "Found 2 errors.", "3 issues"). Linters that print
 * a file header above their findings count it too, on both sides alike.
 */
export function countLintProblems(output: string): number {
  const lines = output.split(/\r?\n/).filter((line) => line.trim() !== '');
  const last = lines[lines.length - 1];
  const summary = last !== undefined && LINT_SUMMARY.test(last.trim());
  return lines.length - (summary ? 1 : 0);
}

const LINT_SUMMARY = /^(✖|×|found\b|\d+\s+(problems?|errors?|warnings?|issues?|findings?)\b)/i;

// ---------------------------------------------------------------- scope

async function scopeCheck(input: JudgeInput): Promise<Check> {
  const started = Date.now();
  const files = await changedFiles(input.worktree, input.baseSha, input.headSha);
  const violations = checkScope(files, input.settings.scope, input.role);
  const durationMs = Date.now() - started;
  if (violations.length === 0) return { name: 'scope', passed: true, detail: `${countFiles(files.length)} changed, within scope`, durationMs };
  const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
  return { name: 'scope', passed: false, detail: `${violations[0]}${more}`, output: violations.join('\n'), durationMs };
}

/**
 * The files the branch changed since it left the base (`base...head`). Renames count as a deletion
 * and an addition, so a file moved out of a forbidden path is still seen; NUL-separated, so no name is
 * quoted or mangled.
 */
export async function changedFiles(worktree: string, baseSha: string, headSha: string): Promise<string[]> {
  const output = await gitOutput(worktree, ['diff', ...DIFF_OPTIONS, '--name-only', '--no-renames', '-z', `${baseSha}...${headSha}`]);
  return output.split('\0').filter((name) => name !== '');
}

/** `git diff --stat` of the branch since it left the base, for verdict.md. */
export async function readDiffStat(worktree: string, baseSha: string, headSha: string): Promise<string> {
  return (await gitOutput(worktree, ['diff', ...DIFF_OPTIONS, '--stat=120', `${baseSha}...${headSha}`])).trimEnd();
}

// ---------------------------------------------------------------- review

/** A diff beyond this is not worth reading into memory: the prompt shows far less of it anyway. */
const REVIEW_DIFF_READ_LIMIT = 64 * 1024 * 1024;

async function reviewCheck(input: JudgeInput, othersPassed: boolean): Promise<Check> {
  const review = input.review ?? null;
  if (review === null) return { name: 'review', passed: true, skipped: true, detail: 'no review agent configured' };
  if (!othersPassed) return { name: 'review', passed: true, skipped: true, detail: 'not run: other checks failed' };
  const started = Date.now();
  const failed = (detail: string, output?: string): Check => ({
    name: 'review',
    passed: false,
    detail,
    ...(output?.trim() ? { output } : {}),
    durationMs: Date.now() - started,
  });
  let diff: string;
  try {
    diff = await gitOutput(input.worktree, ['diff', ...DIFF_OPTIONS, `${input.baseSha}...${input.headSha}`], REVIEW_DIFF_READ_LIMIT);
  } catch (error) {
    return failed(`could not read the diff to review: ${errorMessage(error)}`);
  }
  let answer: string | null;
  try {
    answer = await review.run(buildReviewPrompt(input.task, diff));
  } catch (error) {
    return failed(`the review agent failed: ${errorMessage(error)}`);
  }
  if (answer === null || answer.trim() === '') return failed('the review agent gave no answer');
  const parsed = parseReviewAnswer(answer);
  if (!parsed.ok) return failed(`the review answer could not be read: ${parsed.reason}`, keepTail(answer));
  const { passed, reasoning, issues } = parsed.review;
  const output = [reasoning, ...(issues.length > 0 ? ['', 'Issues:', ...issues.map((issue) => `- ${issue}`)] : [])].join('\n');
  if (!passed) {
    const issueCount = issues.length === 1 ? '1 issue' : `${issues.length} issues`;
    return failed(`the reviewer rejected the change (${issueCount})${issues[0] ? `: ${issues[0]}` : ''}`, output);
  }
  return { name: 'review', passed: true, detail: 'the reviewer approved the change', ...(output.trim() ? { output } : {}), durationMs: Date.now() - started };
}

// ---------------------------------------------------------------- commands and git

function runJudgeCommand(command: Command, cwd: string, input: JudgeInput, outputLimit?: number): Promise<CommandRun> {
  return runCommand(command, { cwd, env: input.env, timeoutMs: input.settings.timeoutS * 1000, sandbox: input.sandbox ?? null, ...(outputLimit ? { outputLimit } : {}) });
}

/** How a judge command ended, in a few words. */
function describeEnd(run: CommandRun, timeoutS: number): string {
  if (run.spawnError !== null) return `could not start (${run.spawnError})`;
  if (run.timedOut) return `timed out after ${timeoutS} s`;
  if (run.exitCode === null) return `killed by ${run.signal ?? 'a signal'}`;
  return run.exitCode === 0 ? 'passed' : `exit code ${run.exitCode}`;
}

/** A command as a verdict line shows it: a long shell script is cut, the output says the rest. */
function shortCommand(command: Command): string {
  const text = describeCommand(command).replace(/\s+/g, ' ').trim();
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/**
 * Options for every diff the judge reads: no external diff drivers or text conversions (programs a
 * repository's config could name), no colour, paths unquoted.
 */
const DIFF_OPTIONS = ['--no-ext-diff', '--no-textconv', '--no-color'];

/**
 * Runs git with an argument vector, never a shell, and returns its raw stdout. Repository hooks are
 * switched off: a temporary checkout must not run the project's post-checkout scripts.
 */
async function gitOutput(cwd: string, args: string[], maxBuffer = 16 * 1024 * 1024): Promise<string> {
  const command = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.quotePath=false', ...args];
  const outcome = await tryGit(cwd, command, { maxBuffer });
  if (!outcome.ok) throw new GitError(command, outcome.exitCode, outcome.stderr);
  return outcome.stdout;
}

async function assertCheckedOut(worktree: string, headSha: string): Promise<void> {
  const [checkedOut, head] = await Promise.all([resolveCommit(worktree, 'HEAD'), resolveCommit(worktree, headSha)]);
  if (checkedOut !== head) throw new Error(`the worktree ${worktree} is at ${checkedOut}, not at ${head} which is to be judged`);
}

async function resolveCommit(worktree: string, revision: string): Promise<string> {
  return (await gitOutput(worktree, ['rev-parse', '--verify', '--end-of-options', `${revision}^{commit}`])).trim();
}

/** Runs `use` in a temporary detached checkout of `commit`, then removes the checkout. */
async function withDetachedWorktree<T>(repo: string, commit: string, use: (dir: string) => Promise<T>): Promise<T> {
  const parent = await mkdtemp(join(tmpdir(), 'orch-judge-base-'));
  const dir = join(parent, 'base');
  try {
    await gitOutput(repo, ['worktree', 'add', '--detach', '--quiet', dir, commit]);
    return await use(dir);
  } finally {
    await gitOutput(repo, ['worktree', 'remove', '--force', dir]).catch(() => undefined);
    await rm(parent, { recursive: true, force: true });
    // Forget the checkout even when `remove` failed (the directory is gone either way).
    await gitOutput(repo, ['worktree', 'prune']).catch(() => undefined);
  }
}

/** The most output a check keeps: verdicts are stored and rendered, and the end is what matters. */
const CHECK_OUTPUT_LIMIT = 64_000;

function keepTail(output: string): string {
  return output.length > CHECK_OUTPUT_LIMIT ? output.slice(-CHECK_OUTPUT_LIMIT) : output;
}

function countFiles(count: number): string {
  return count === 1 ? '1 file' : `${count} files`;
}

function countProblems(count: number): string {
  return count === 1 ? '1 problem' : `${count} problems`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}
