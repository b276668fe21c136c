import type { AgentPrompt } from './prompt.js';
import { RESULT_CONTRACT_PROMPT } from './result-contract.js';

/**
 * What a pull worker is told when Orch starts it: no task, only how to find and claim one with the
 * `orch` commands on its PATH, and what Orch does once it exits. The task itself it reads with
 * `orch agent describe` after its claim.
 */
export function buildKickstartPrompt(project: string): AgentPrompt {
  const prompt = [
    `# Pick a task of project ${project} and do it`,
    '',
    'Nobody has assigned you a task: you choose one yourself, with the `orch` command.',
    '',
    '1. Run `orch issue ready` to see the tasks you may take, most important first.',
    '2. Pick one and run `orch agent claim <id>` (or `orch agent claim` alone to take the first one no other worker took). If the claim is refused (another worker took it), pick another one.',
    '3. If no task is listed, or every claim is refused, run `orch agent done` and stop.',
    '4. Run `orch agent describe` to read the task you claimed: what to do, its acceptance criteria, and what went wrong in earlier attempts.',
    '5. Do the work in this directory and commit it (whatever you leave uncommitted, Orch commits for you).',
    '6. Run `orch agent done --summary "<one line on what you did>"`, then end your final message with the result block.',
    '',
    'Claim one task only. When you exit, Orch tests, judges and merges your work.',
  ].join('\n');
  const systemPromptAppend = [
    'You are a worker Orch started in a git worktree of your own, on a branch of your own.',
    'Work only on the task you claimed, and only in this working directory.',
    '',
    RESULT_CONTRACT_PROMPT,
  ].join('\n');
  return { prompt, systemPromptAppend };
}
