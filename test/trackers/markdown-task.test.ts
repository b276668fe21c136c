import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseTask,
  serializeTask,
  taskBody,
  TaskFileError,
  withOrchNote,
  type OrchNote,
} from '../../src/trackers/markdown-task.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** The error parseTask throws for `text`, or a failure if it throws none. */
function refusal(text: string, file = 'queue/incoming/task.md'): TaskFileError {
  try {
    parseTask(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(TaskFileError);
    return error as TaskFileError;
  }
  throw new Error('expected parseTask to refuse the file');
}

const note: OrchNote = { state: 'needs_review', summary: 'Tests failed\nthree times.', attempts: 3, costUsd: 1.234, pullRequestUrl: null };

describe('reading the example task of a file-queue scheduler', () => {
  const text = fixture('queue-example-task.md');

  it('reads every header, the context and the criteria', () => {
    expect(parseTask(text, 'queue-example-task.md')).toEqual({
      id: 'TASK-a1b2c3d4',
      title: 'Add input validation',
      role: 'implement',
      priority: 1,
      branch: 'main',
      created: '2024-01-15T10:30:00Z',
      createdBy: 'pm-agent',
      otherHeaders: [],
      description: null,
      context: 'Background and motivation...',
      acceptanceCriteria: [
        { checked: false, text: 'Criterion 1' },
        { checked: false, text: 'Criterion 2' },
      ],
      sections: [],
    });
  });

  it('writes it back byte for byte', () => {
    expect(serializeTask(parseTask(text, 'queue-example-task.md'))).toBe(text);
  });

  it('reads the same task with CRLF line endings and a byte-order mark', () => {
    expect(parseTask(`\uFEFF${text.replace(/\n/g, '\r\n')}`, 'x.md')).toEqual(parseTask(text, 'x.md'));
  });
});

describe('reading a task written by hand', () => {
  const text = fixture('hand-written-task.md');
  const task = parseTask(text, 'hand-written-task.md');

  it('accepts any case of header names, extra blank lines and missing optional headers', () => {
    expect(task).toMatchObject({
      id: null,
      title: 'Make the login form survive an empty password',
      role: 'Tester',
      priority: 3,
      branch: null,
      created: null,
      createdBy: 'alice',
    });
  });

  it('keeps unknown headers (a URL value is not split) and the prose before the sections', () => {
    expect(task.otherHeaders).toEqual([{ name: 'Ticket', value: 'https://tracker.example/LOGIN-7' }]);
    expect(task.description).toBe('The form throws when the password field is empty; see the stack trace below.');
  });

  it('does not take # lines in a code block for headings', () => {
    expect(task.context).toBe('Reproduce with:\n\n```sh\n# start the dev server\nnpm run dev\n## this is code, not a section\n```');
    expect(task.sections).toEqual([{ heading: 'Notes', text: 'Keep the error text short.' }]);
  });

  it('reads the criteria as a list: checkboxes, plain items and continuation lines', () => {
    expect(task.acceptanceCriteria).toEqual([
      { checked: true, text: 'an empty password shows "required"' },
      { checked: false, text: 'no exception in the console\nwhen the field is cleared after typing' },
      { checked: null, text: 'a test covers both' },
    ]);
  });

  it('keeps every field through serialize and parse', () => {
    expect(parseTask(serializeTask(task), 'again.md')).toEqual(task);
  });

  it('gives agents the body without the title and known headers', () => {
    const body = taskBody(task);
    expect(body.startsWith('Ticket: https://tracker.example/LOGIN-7\n\nThe form throws')).toBe(true);
    expect(body).toContain('## Acceptance Criteria\n- [x] an empty password');
    expect(body).not.toContain('CREATED_BY');
  });
});

describe('what the parser tolerates', () => {
  it('takes P1, p1, P 1 and a bare 1 as the same level', () => {
    for (const value of ['P1', 'p1', 'P 1', '1', '01']) {
      expect(parseTask(`# T\nPRIORITY: ${value}\n`, 'x.md').priority).toBe(1);
    }
  });

  it('reads an empty header as a missing one', () => {
    expect(parseTask('# T\nROLE:\nPRIORITY:\n', 'x.md')).toMatchObject({ role: null, priority: null });
  });

  it('accepts header names with spaces, dashes or underscores', () => {
    for (const name of ['CREATED_BY', 'Created By', 'created-by', 'createdby']) {
      expect(parseTask(`# T\n${name}: bob\n`, 'x.md').createdBy).toBe('bob');
    }
  });

  it('ignores a repeated header that agrees with the first', () => {
    expect(parseTask('# T\nPRIORITY: 2\nPRIORITY: 2\n', 'x.md').priority).toBe(2);
  });

  it('does not read a leading URL as a header', () => {
    expect(parseTask('# T\n\nhttps://example.com/issue/1\n', 'x.md')).toMatchObject({ otherHeaders: [], description: 'https://example.com/issue/1' });
  });

  it('joins a second Context section to the first and a second criteria list to the first', () => {
    const task = parseTask('# T\n## Context\none\n## Acceptance Criteria\n- a\n## Context\ntwo\n## acceptance criteria:\n- b\n', 'x.md');
    expect(task.context).toBe('one\n\ntwo');
    expect(task.acceptanceCriteria).toEqual([
      { checked: null, text: 'a' },
      { checked: null, text: 'b' },
    ]);
  });

  it('keeps nested list items and loose prose inside the criteria', () => {
    const task = parseTask('# T\n## Acceptance Criteria\n1. [X] first\n   - nested\n\nA sentence on its own.\n- [ ]\n', 'x.md');
    expect(task.acceptanceCriteria).toEqual([
      { checked: true, text: 'first\n- nested' },
      { checked: null, text: 'A sentence on its own.' },
      { checked: false, text: '' },
    ]);
  });

  it('tells an empty criteria section from a missing one, and an empty context from none', () => {
    expect(parseTask('# T\n## Context\n## Acceptance Criteria\n', 'x.md')).toMatchObject({ context: '', acceptanceCriteria: [] });
    expect(parseTask('# T\n', 'x.md')).toMatchObject({ context: null, acceptanceCriteria: null, description: null });
  });
});

describe('what the parser refuses, naming the file and line', () => {
  it('a file whose first line is not a title', () => {
    const error = refusal(fixture('no-title.md'), 'queue/incoming/no-title.md');
    expect(error.message).toBe('queue/incoming/no-title.md:1: expected the title as "# Title", found "ROLE: implement"');
    expect(error.line).toBe(1);
  });

  it('a PRIORITY that is not a number', () => {
    const error = refusal(fixture('bad-priority.md'), 'queue/incoming/bad-priority.md');
    expect(error.message).toBe(
      'queue/incoming/bad-priority.md:4: PRIORITY "high" is not a number: write a level such as P1 or 1 (P0 is the most urgent)',
    );
  });

  it('a negative or fractional PRIORITY', () => {
    expect(refusal('# T\nPRIORITY: -1\n').line).toBe(2);
    expect(refusal('# T\nPRIORITY: 1.5\n').line).toBe(2);
  });

  it('an empty file, an empty title, a title that is only an id', () => {
    expect(refusal('\n \n').message).toBe('queue/incoming/task.md:1: the file is empty: a task starts with a "# Title" line');
    expect(refusal('\n#   \n').message).toBe('queue/incoming/task.md:2: the title is empty');
    expect(refusal('# [TASK-1]\n').message).toBe('queue/incoming/task.md:1: the title is empty');
  });

  it('a section heading where the title should be', () => {
    expect(refusal('## Context\nx\n').line).toBe(1);
  });

  it('a header given twice with different values', () => {
    expect(refusal('# T\nPRIORITY: 1\nROLE: test\nPriority: 2\n').message).toBe(
      'queue/incoming/task.md:4: Priority is given twice with different values (first on line 2)',
    );
  });

  it('in one line whatever the input', () => {
    expect(refusal('# T\nPRIORITY: urgent\r\nnext line\n').message).not.toContain('\n');
  });
});

describe('the Orch status note', () => {
  const text = fixture('queue-example-task.md');

  it('is appended as a section of its own', () => {
    const updated = withOrchNote(text, note);
    expect(updated).toBe(
      `${text}\n## Orch\n- state: needs_review\n- summary: Tests failed three times.\n- attempts: 3\n- cost: $1.23\n`,
    );
    expect(parseTask(updated, 'x.md').sections).toEqual([
      { heading: 'Orch', text: '- state: needs_review\n- summary: Tests failed three times.\n- attempts: 3\n- cost: $1.23' },
    ]);
  });

  it('is updated in place, never duplicated, and leaves the rest of the file alone', () => {
    const once = withOrchNote(text, { ...note, state: 'running', summary: 'Started.' });
    const twice = withOrchNote(once, { ...note, state: 'done', summary: 'Merged.', pullRequestUrl: 'https://example.com/pr/4' });
    expect(twice.match(/## Orch/g)).toHaveLength(1);
    expect(twice).toBe(`${text}\n## Orch\n- state: done\n- summary: Merged.\n- attempts: 3\n- cost: $1.23\n- pull request: https://example.com/pr/4\n`);
    expect(withOrchNote(twice, { ...note, state: 'done', summary: 'Merged.', pullRequestUrl: 'https://example.com/pr/4' })).toBe(twice);
  });

  it('keeps the sections after it and folds a second Orch section into the first', () => {
    const text = '# T\n\n## Orch\n- state: running\n\n## Notes\nkeep me\n\n## orch\n- state: old\n';
    expect(withOrchNote(text, note)).toBe(
      '# T\n\n## Orch\n- state: needs_review\n- summary: Tests failed three times.\n- attempts: 3\n- cost: $1.23\n\n## Notes\nkeep me\n',
    );
  });

  it('keeps CRLF line endings and ignores an "## Orch" line inside a code block', () => {
    const text = '# T\r\n\r\n## Context\r\n```\r\n## Orch\r\n```\r\n';
    const updated = withOrchNote(text, note);
    expect(updated.startsWith(text)).toBe(true);
    expect(updated.replace(/\r\n/g, '')).not.toContain('\n');
    expect(parseTask(updated, 'x.md').context).toBe('```\n## Orch\n```');
  });

  it('is not part of what agents read', () => {
    const task = parseTask(withOrchNote(text, note), 'x.md');
    expect(taskBody(task)).toBe(taskBody(parseTask(text, 'x.md')));
    expect(serializeTask(task)).toContain('## Orch');
  });
});
