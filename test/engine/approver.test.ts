// The LLM approver between the rules and a person: a `command` agent reads the prompt Orch gives it and
// answers allow, deny or ask. Allow and deny decide at once (decided by `approver`, its reason kept); ask,
// an unclear answer or a failed run leave the request to a person.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decideAsPerson, requestPermission, type ApprovalCaller } from '../../src/engine/approvals.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { addTask } from '../../src/engine/tasks.js';
import { makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let orch: Orch;

// Answers from the command in the prompt: curl is denied, ls allowed, echo is gibberish, exit 3 fails;
// anything else goes to a person.
const APPROVER = `#!/bin/sh
prompt=$(cat)
case "$prompt" in
  *'"command": "curl'*) echo '{"decision": "deny", "reason": "it reaches the network"}' ;;
  *'"command": "ls'*) echo 'Looks harmless.'; echo '{"decision": "allow", "reason": "it only lists files"}' ;;
  *'"command": "echo'*) echo 'I am not sure what to say.' ;;
  *'"command": "exit'*) exit 3 ;;
  *) echo '{"decision": "ask", "reason": "a person should look"}' ;;
esac
`;

beforeEach(async () => {
  scratch = tempDir('orch-approver-');
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  const script = join(scratch.path, 'approver.sh');
  writeFileSync(script, APPROVER);
  chmodSync(script, 0o755);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: { judge: { kind: 'command', command: script } },
      projects: {
        app: {
          path: makeRepo(scratch.path, 'app'),
          sandbox: 'off',
          approvals: { enabled: true, timeout_s: 3600, allow: ['Bash(npm test*)'], deny: ['Bash(rm *)'], approver: { agent: 'judge' } },
        },
      },
    }),
  );
  orch = await openOrch(home);
});
afterEach(async () => {
  await orch.close();
  scratch.cleanup();
});

async function running(): Promise<ApprovalCaller> {
  const task = await addTask(orch.store, { project: 'app', title: 'Tidy the scripts' }, orch.now());
  const claim = (await orch.store.claimTask({ taskId: task.id, owner: 'test:1', leaseMs: 60_000, now: orch.now() }))!;
  const run = await orch.store.createRun({ taskId: task.id, project: 'app', attempt: 1, agent: 'claude', startedAt: orch.now() }, claim.token);
  return { project: 'app', taskId: task.id, runId: run.id, role: task.role, cwd: '/work/tree' };
}

/** A person answering the first pending request, as the inbox would. */
async function personApproves(runId: number): Promise<void> {
  for (;;) {
    const [pending] = await orch.store.listApprovals({ runId, state: 'pending' });
    if (pending) {
      await decideAsPerson(orch, pending.id, 'approve', 'fine by me');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the LLM approver', () => {
  it('allows and denies what the rules leave open, with its reason, and is not asked what the rules decide', async () => {
    const caller = await running();
    const listed = await requestPermission(orch, caller, 'Bash', { command: 'ls -la' });
    expect(listed).toMatchObject({ allow: true, message: 'allowed by the approver: it only lists files' });
    const fetched = await requestPermission(orch, caller, 'Bash', { command: 'curl https://example.com' });
    expect(fetched).toMatchObject({ allow: false, message: 'denied by the approver: it reaches the network' });
    const tested = await requestPermission(orch, caller, 'Bash', { command: 'npm test' });
    expect(tested).toMatchObject({ allow: true, message: 'allowed by rule Bash(npm test*)' });

    const approvals = await orch.store.listApprovals({ runId: caller.runId });
    expect(approvals.map((a) => [a.state, a.decidedBy])).toEqual(
      expect.arrayContaining([
        ['allowed', 'approver'],
        ['denied', 'approver'],
        ['allowed', 'rule'],
      ]),
    );
    const decided = await orch.store.listEvents({ types: ['approval.decided'], taskId: caller.taskId });
    expect(decided.map((e) => (e.data as { decidedBy: string }).decidedBy).sort()).toEqual(['approver', 'approver', 'rule']);
  });

  it('leaves to a person what it will not decide: "ask", an answer without a decision, a failed run', async () => {
    const caller = await running();
    for (const command of ['make deploy', 'echo hi', 'exit 3']) {
      const [answer] = await Promise.all([requestPermission(orch, caller, 'Bash', { command }), personApproves(caller.runId)]);
      expect(answer).toMatchObject({ allow: true, message: 'fine by me' });
    }
    const passed = await orch.store.listEvents({ types: ['approval.approver_passed'], taskId: caller.taskId });
    expect(passed.map((e) => (e.data as { reason: string }).reason)).toEqual([
      'the approver asks a person: a person should look',
      'the approver asks a person: the approver did not answer with {"decision": ..., "reason": ...}',
      expect.stringMatching(/^the approver's run failed/),
    ]);
    const approvals = await orch.store.listApprovals({ runId: caller.runId });
    expect(approvals.every((a) => a.decidedBy === 'person')).toBe(true);
  });
});
