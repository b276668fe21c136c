import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { taskIdOfBranch } from '../../src/core/branch-name.js';
import { buildKickstartPrompt } from '../../src/core/kickstart.js';
import { RESULT_CONTRACT_PROMPT } from '../../src/core/result-contract.js';
import { acceptanceCriteria, buildTaskBrief, renderTaskBrief } from '../../src/core/task-brief.js';
import { workerBranchName, workerIdOfBranch, workerIdOfName, workerName } from '../../src/core/worker-names.js';
import { idleWorkersPause, unclaimedOutcome } from '../../src/core/worker-outcome.js';
import { WORKER_OUTCOMES } from '../../src/core/types.js';

describe('worker names', () => {
  it('round-trips every worker id, and never reads a run id, a task branch or junk as a worker', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (id) => {
        expect(workerIdOfName(workerName(id))).toBe(id);
        expect(workerIdOfBranch(workerBranchName(id))).toBe(id);
        expect(taskIdOfBranch(workerBranchName(id))).toBeNull();
        expect(workerIdOfName(String(id))).toBeNull();
      }),
    );
    for (const text of [undefined, '', 'w', 'w0', 'w-1', 'w1x', 'W1', ' 7', 'w1.5', 'w99999999999999999999']) expect(workerIdOfName(text)).toBeNull();
    expect(workerIdOfBranch('orch/12-fix-w3')).toBeNull();
    expect(workerIdOfBranch('w3')).toBeNull();
    expect(() => workerName(0)).toThrow(RangeError);
  });
});

describe('the kickstart prompt', () => {
  it('tells the worker to find, claim, read, do, commit and say done, with the result contract', () => {
    const { prompt, systemPromptAppend } = buildKickstartPrompt('api');
    expect(prompt).toContain('project api');
    const steps = ['orch issue ready', 'orch agent claim <id>', 'orch agent done', 'orch agent describe', 'commit', 'orch agent done --summary'];
    let at = 0;
    for (const step of steps) {
      const found = prompt.indexOf(step, at);
      expect(found, step).toBeGreaterThanOrEqual(0);
      at = found;
    }
    expect(systemPromptAppend).toContain(RESULT_CONTRACT_PROMPT);
  });
});

describe('the task brief', () => {
  const task = { id: 4, title: 'Add /health', body: 'Make it cheap.\n\n## Acceptance criteria\n\n- returns 200\n- carries the\n  version\n\n* no auth\n\nNotes after.', labels: ['api'], role: 'implement' as const };

  it('carries the task, its acceptance criteria, earlier failures and the result contract', () => {
    const brief = buildTaskBrief(task, [{ attempt: 1, outcome: 'failed', reason: 'tests failed', summary: null, failure: null }], 'found BUG in src');
    expect(brief).toMatchObject({ id: 4, title: 'Add /health', labels: ['api'], acceptanceCriteria: ['returns 200', 'carries the version', 'no auth'], lastFailure: 'found BUG in src', resultContract: RESULT_CONTRACT_PROMPT });
    const text = renderTaskBrief(brief);
    for (const part of ['# Task #4: Add /health', 'Make it cheap.', 'Labels: api', 'Attempt 1 ended failed: tests failed', 'found BUG in src', 'orch agent done --summary', RESULT_CONTRACT_PROMPT]) expect(text).toContain(part);
  });

  it('reads acceptance criteria however they are written, and none when there are none', () => {
    expect(acceptanceCriteria('Just do it.')).toEqual([]);
    expect(acceptanceCriteria('**Acceptance criteria:**\n1. one\n2) two\n- [ ] three\n- [x] four\nthe end')).toEqual(['one', 'two', 'three', 'four']);
    expect(acceptanceCriteria('Acceptance criteria: the page loads in under 1s')).toEqual(['the page loads in under 1s']);
    expect(acceptanceCriteria('### acceptance criteria\n\nnot a list')).toEqual([]);
    expect(acceptanceCriteria('ACCEPTANCE CRITERIA\r\n- windows\r\n- lines\r\n')).toEqual(['windows', 'lines']);
  });

  it('never throws on any body', () => {
    fc.assert(
      fc.property(fc.string(), (body) => {
        expect(Array.isArray(acceptanceCriteria(`Acceptance criteria\n${body}`))).toBe(true);
      }),
    );
  });
});

describe('how a worker ends', () => {
  it('tells a normal end from a worker that left ready work behind', () => {
    expect(unclaimedOutcome(0, 'it exited')).toEqual({ outcome: 'no_work', reason: 'it exited; no ready task was left to claim' });
    expect(unclaimedOutcome(2, 'it exited')).toEqual({ outcome: 'unclaimed', reason: 'it exited without claiming any of the 2 ready tasks' });
  });

  it('pauses a project only when its last workers all left the work, or could not start', () => {
    expect(idleWorkersPause(['unclaimed', 'unclaimed'])).toBeNull();
    expect(idleWorkersPause(['unclaimed', 'failed', 'unclaimed'])).toBe('paused: the last 3 workers ended without claiming any of the ready tasks (the last: unclaimed)');
    expect(idleWorkersPause(['unclaimed', 'unclaimed', 'no_work'])).toBeNull();
    expect(idleWorkersPause(['claimed', 'unclaimed', 'unclaimed'])).toBeNull();
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WORKER_OUTCOMES), { maxLength: 8 }), (outcomes) => {
        const paused = idleWorkersPause(outcomes) !== null;
        const last = outcomes.slice(-3);
        expect(paused).toBe(last.length === 3 && last.every((o) => o === 'unclaimed' || o === 'failed'));
      }),
    );
  });
});
