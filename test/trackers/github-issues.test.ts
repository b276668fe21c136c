// The GitHub tracker's pure parts: refs, the labels it reads and writes, dependency lines, mentions.

import { describe, expect, it } from 'vitest';
import {
  dependencyRefs,
  labelChanges,
  mayAsk,
  mentionTitle,
  mentionsOrch,
  parseIssueRef,
  priorityFromLabels,
  refFromApiUrl,
  roleFromLabels,
  statusComment,
  withClosingKeyword,
} from '../../src/trackers/github-issues.js';
import type { StatusReport } from '../../src/trackers/tracker.js';

const report: StatusReport = { state: 'running', summary: '', agent: null, complexity: null, attempts: 0, costUsd: 0, pullRequestUrl: null };

describe('refs', () => {
  it('parses issue refs and API URLs', () => {
    expect(parseIssueRef('github:acme/widgets#12')).toEqual({ repo: 'acme/widgets', number: 12 });
    expect(parseIssueRef('github:acme/widgets#12/comment-3')).toBeNull();
    expect(parseIssueRef('linear:ENG-1')).toBeNull();
    expect(refFromApiUrl('https://api.github.com/repos/acme/widgets/issues/7')).toEqual({ repo: 'acme/widgets', number: 7 });
  });
});

describe('labels read', () => {
  it('maps roles, ignoring unknown ones', () => {
    expect(roleFromLabels(['bug', 'role:test'])).toBe('test');
    expect(roleFromLabels(['Role:Review'])).toBe('review');
    expect(roleFromLabels(['role:wizard'])).toBeNull();
  });

  it('maps priorities: priority:<n>, P0 highest, the highest label wins', () => {
    expect(priorityFromLabels([])).toBe(0);
    expect(priorityFromLabels(['P0'])).toBe(3);
    expect(priorityFromLabels(['p3'])).toBe(0);
    expect(priorityFromLabels(['P2', 'priority:5'])).toBe(5);
    expect(priorityFromLabels(['priority:-2'])).toBe(-2);
    expect(priorityFromLabels(['P4', 'priority:high'])).toBe(0);
  });
});

describe('dependency lines', () => {
  it('finds #N, owner/name#N and issue URLs on Depends on / Blocked by lines only', () => {
    const body = [
      'Fixes the thing mentioned in #1.',
      'Depends on #2 and #3',
      '- [ ] Blocked by: other/repo#4',
      '**Depends on** https://github.com/acme/widgets/issues/5',
      '  depends on #2',
      'This depends on #6 in the middle of a sentence.',
    ].join('\n');
    expect(dependencyRefs(body, 'acme/widgets')).toEqual([
      'github:acme/widgets#2',
      'github:acme/widgets#3',
      'github:other/repo#4',
      'github:acme/widgets#5',
    ]);
  });
});

describe('labels written', () => {
  it('replaces the status, agent and complexity labels and keeps the rest', () => {
    const current = ['orch', 'orch:queued', 'agent:codex', 'complexity:simple', 'bug'];
    expect(labelChanges(current, { ...report, agent: 'claude', complexity: 'simple' }, ['orch'])).toEqual({
      add: ['orch:running', 'agent:claude'],
      remove: ['orch:queued', 'agent:codex'],
    });
  });

  it('leaves agent and complexity labels alone when the report has none, and never removes a selecting label', () => {
    expect(labelChanges(['orch:ready', 'agent:codex', 'orch:judging'], report, ['orch:ready'])).toEqual({
      add: ['orch:running'],
      remove: ['orch:judging'],
    });
  });

  it('has one label per state', () => {
    expect(labelChanges([], { ...report, state: 'needs_review' }).add).toEqual(['orch:needs-review']);
    expect(labelChanges([], { ...report, state: 'routed' }).add).toEqual(['orch:queued']);
  });
});

describe('the status comment', () => {
  it('starts with the marker and says the state, the facts, the summary and the pull request', () => {
    const body = statusComment({ ...report, state: 'done', summary: 'Merged after 2 attempts.', agent: 'claude', attempts: 2, costUsd: 1.5, pullRequestUrl: 'https://github.com/acme/widgets/pull/9' });
    expect(body).toBe(
      '<!-- orch:status -->\n**Orch: done** · agent `claude` · 2 attempts · $1.50\n\nMerged after 2 attempts.\n\nPull request: https://github.com/acme/widgets/pull/9\n',
    );
  });
});

describe('mentions', () => {
  it('recognises @orch as a word of its own', () => {
    expect(mentionsOrch('@orch fix this')).toBe(true);
    expect(mentionsOrch('hey @ORCH, please')).toBe(true);
    expect(mentionsOrch('(@orch)')).toBe(true);
    expect(mentionsOrch('@orchestra')).toBe(false);
    expect(mentionsOrch('@orch-bot')).toBe(false);
    expect(mentionsOrch('me@orch.dev')).toBe(false);
  });

  it('takes the first line without the mention as the title', () => {
    expect(mentionTitle('@orch, add tests\nmore', 3)).toBe('add tests');
    expect(mentionTitle('@orch\n\nplease refactor', 3)).toBe('please refactor');
    expect(mentionTitle('@orch', 3)).toBe('request on #3');
    expect(mentionTitle(`@orch ${'x'.repeat(100)}`, 3)).toHaveLength(80);
  });

  it('lets the configured authors ask, else owners, members and collaborators', () => {
    expect(mayAsk({ user: { login: 'Alice' }, author_association: 'NONE' }, ['alice'])).toBe(true);
    expect(mayAsk({ user: { login: 'acme' }, author_association: 'OWNER' }, ['alice'])).toBe(false);
    expect(mayAsk({ user: { login: 'carol' }, author_association: 'COLLABORATOR' }, [])).toBe(true);
    expect(mayAsk({ user: { login: 'eve' }, author_association: 'CONTRIBUTOR' }, [])).toBe(false);
    expect(mayAsk({ user: null, author_association: 'OWNER' }, [])).toBe(false);
  });
});

describe('pull request bodies', () => {
  it('close the issue unless they already do', () => {
    expect(withClosingKeyword('Summary.', 4)).toBe('Summary.\n\nCloses #4\n');
    expect(withClosingKeyword('', 4)).toBe('Closes #4\n');
    expect(withClosingKeyword('This resolves #4.', 4)).toBe('This resolves #4.');
    expect(withClosingKeyword('Closes #40', 4)).toBe('Closes #40\n\nCloses #4\n');
  });
});
