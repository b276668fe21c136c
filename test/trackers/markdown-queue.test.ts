import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROLES } from '../../src/core/types.js';
import {
  fileNameOfRef,
  folderForState,
  MarkdownQueueTracker,
  priorityFromLevel,
  roleFromQueue,
  type QueueFolder,
} from '../../src/trackers/markdown-queue.js';
import { parseTask } from '../../src/trackers/markdown-task.js';
import { TrackerError, type StatusReport, type TrackedIssue } from '../../src/trackers/tracker.js';

const exampleTask = readFileSync(new URL('./fixtures/queue-example-task.md', import.meta.url), 'utf8');

const task = (title: string, headers = '') => `# ${title}\n\n${headers}\n## Context\nWhy ${title}.\n`;

function status(state: StatusReport['state'], summary = `now ${state}`): StatusReport {
  return { state, summary, agent: 'claude', complexity: null, attempts: 2, costUsd: 0.5, pullRequestUrl: null };
}

describe('the markdown queue', () => {
  let repo: string;
  let skipped: string[];
  let queue: MarkdownQueueTracker;

  const path = (folder: QueueFolder, name: string) => join(repo, 'ops', 'queue', folder, name);
  const put = (folder: QueueFolder, name: string, text: string) => {
    mkdirSync(join(repo, 'ops', 'queue', folder), { recursive: true });
    writeFileSync(path(folder, name), text);
  };
  const filesIn = (folder: QueueFolder) => {
    const dir = join(repo, 'ops', 'queue', folder);
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  };
  const byRef = (issues: TrackedIssue[]) => new Map(issues.map((issue) => [issue.ref, issue]));

  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'orch-queue-'));
    mkdirSync(join(repo, 'ops', 'queue'), { recursive: true });
    skipped = [];
    queue = new MarkdownQueueTracker({
      tracker: { kind: 'markdown', dir: 'ops/queue' },
      projectPath: repo,
      onSkippedFile: (message) => skipped.push(message),
      now: () => 1_000,
    });
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  describe('setting up', () => {
    it('resolves the configured directory against the repository', () => {
      expect(queue.kind).toBe('markdown');
      expect(queue.root).toBe(join(repo, 'ops', 'queue'));
    });

    it('refuses a project without a local repository and an absolute directory', () => {
      expect(() => new MarkdownQueueTracker({ tracker: { kind: 'markdown', dir: 'q' }, projectPath: null })).toThrow(TrackerError);
      expect(() => new MarkdownQueueTracker({ tracker: { kind: 'markdown', dir: '/q' }, projectPath: repo })).toThrow(
        'must be relative to the repository root',
      );
    });

    it('says which directory is missing when the queue does not exist', async () => {
      const missing = new MarkdownQueueTracker({ tracker: { kind: 'markdown', dir: 'nowhere' }, projectPath: repo });
      await expect(missing.sync(null)).rejects.toThrow('the queue directory nowhere does not exist in the repository');
    });
  });

  describe('sync', () => {
    it('reads a BLOCKED header as a hold on a queued or claimed file, and its removal (or BLOCKED: no) as none', async () => {
      put('incoming', '0001-waits.md', task('Waits', 'BLOCKED: the API keys are not here yet\n'));
      put('claimed', '0002-paused.md', task('Paused', 'BLOCKED: yes\n'));
      put('claimed', '0003-free.md', task('Free', 'BLOCKED: no\n'));
      const found = byRef((await queue.sync(null)).issues);
      expect(found.get('queue:0001-waits.md')).toMatchObject({ ready: false, closed: false, held: 'its file says BLOCKED: the API keys are not here yet' });
      expect(found.get('queue:0002-paused.md')).toMatchObject({ held: 'its file says BLOCKED: yes' });
      expect(found.get('queue:0003-free.md')!.held).toBeNull();
    });

    it('returns incoming files as ready, claimed as taken, done and failed as closed', async () => {
      put('incoming', '0001-validate.md', exampleTask);
      put('claimed', '0002-busy.md', task('Busy', 'ROLE: tester\n'));
      put('done', '0003-finished.md', task('Finished'));
      put('failed', '0004-broken.md', task('Broken', 'PRIORITY: P0\n'));

      const { issues, notBefore } = await queue.sync(null);
      expect(notBefore).toBeNull();
      const found = byRef(issues);
      expect([...found.keys()].sort()).toEqual(['queue:0001-validate.md', 'queue:0002-busy.md', 'queue:0003-finished.md', 'queue:0004-broken.md']);
      expect(found.get('queue:0001-validate.md')).toEqual({
        ref: 'queue:0001-validate.md',
        title: 'Add input validation',
        body: '## Context\nBackground and motivation...\n\n## Acceptance Criteria\n- [ ] Criterion 1\n- [ ] Criterion 2',
        labels: [],
        priority: 1,
        role: 'implement',
        dependsOn: [],
        parent: null,
        ready: true,
        closed: false,
        held: null,
        url: null,
        updatedAt: Math.trunc(statSync(path('incoming', '0001-validate.md')).mtimeMs),
      });
      expect(found.get('queue:0002-busy.md')).toMatchObject({ ready: false, closed: false, role: 'test', priority: 0 });
      expect(found.get('queue:0002-busy.md')!.held).toBeNull();
      expect(found.get('queue:0003-finished.md')).toMatchObject({ ready: false, closed: true });
      expect(found.get('queue:0004-broken.md')).toMatchObject({ ready: false, closed: true, priority: 2 });
    });

    it('skips a malformed file with one line naming it, and goes on with the rest', async () => {
      put('incoming', 'good.md', task('Good'));
      put('incoming', 'bad.md', '# Bad\nPRIORITY: soon\n');
      put('incoming', 'untitled.md', 'just some notes\n');

      const { issues } = await queue.sync(null);
      expect(issues.map((issue) => issue.ref)).toEqual(['queue:good.md']);
      expect(skipped.sort()).toEqual([
        'ops/queue/incoming/bad.md:2: PRIORITY "soon" is not a number: write a level such as P1 or 1 (P0 is the most urgent)',
        'ops/queue/incoming/untitled.md:1: expected the title as "# Title", found "just some notes"',
      ]);
    });

    it('ignores dotfiles, other files and folders', async () => {
      put('incoming', 'task.md', task('Task'));
      put('incoming', '.task.md.1234.tmp', 'half written');
      put('incoming', '.hidden.md', task('Hidden'));
      put('incoming', 'notes.txt', 'not a task');
      mkdirSync(path('incoming', 'folder.md'));
      expect((await queue.sync(null)).issues.map((issue) => issue.ref)).toEqual(['queue:task.md']);
    });

    it('refuses links, pipes and folders in the queue without following or reading them, once each', async () => {
      const outside = join(repo, 'outside.md');
      writeFileSync(outside, task('SENTINEL-7f3a outside the queue'));
      put('incoming', 'task.md', task('Task'));
      symlinkSync(outside, path('incoming', 'link.md'));
      symlinkSync(join(repo, 'nowhere.md'), path('incoming', 'dangling.md'));
      execFileSync('mkfifo', [path('incoming', 'pipe.md')]);
      mkdirSync(path('incoming', 'folder.md'));

      const first = await queue.sync(null);
      expect(first.issues.map((issue) => issue.ref)).toEqual(['queue:task.md']);
      const reason = 'Orch reads only regular files in the queue';
      expect(skipped.sort()).toEqual([
        `ops/queue/incoming/dangling.md: is a symbolic link; ${reason}`,
        `ops/queue/incoming/folder.md: is a directory; ${reason}`,
        `ops/queue/incoming/link.md: is a symbolic link; ${reason}`,
        `ops/queue/incoming/pipe.md: is a named pipe (FIFO); ${reason}`,
      ]);
      expect((await queue.sync(first.cursor)).issues).toEqual([]);
      expect(skipped).toHaveLength(4);
    });

    it('never writes a status note through a link that took a task file\'s place', async () => {
      const outside = join(repo, 'outside.md');
      writeFileSync(outside, task('Outside'));
      mkdirSync(join(repo, 'ops', 'queue', 'claimed'));
      symlinkSync(outside, path('claimed', 'task.md'));
      await queue.report('queue:task.md', status('running'));
      expect(readFileSync(outside, 'utf8')).toBe(task('Outside'));
      // Not replaced by a copy of what it points at either.
      expect(lstatSync(path('claimed', 'task.md')).isSymbolicLink()).toBe(true);
    });

    it('returns only what changed since the cursor', async () => {
      put('incoming', 'a.md', task('A'));
      put('incoming', 'b.md', task('B'));
      put('incoming', 'c.md', task('C'));
      const first = await queue.sync(null);
      expect(first.issues).toHaveLength(3);

      const quiet = await queue.sync(first.cursor);
      expect(quiet.issues).toEqual([]);

      writeFileSync(path('incoming', 'a.md'), task('A, reworded', 'PRIORITY: P0\n'));
      mkdirSync(join(repo, 'ops', 'queue', 'done'));
      renameSync(path('incoming', 'b.md'), path('done', 'b.md'));
      put('incoming', 'd.md', task('D'));
      const changed = await queue.sync(quiet.cursor);
      const found = byRef(changed.issues);
      expect([...found.keys()].sort()).toEqual(['queue:a.md', 'queue:b.md', 'queue:d.md']);
      expect(found.get('queue:a.md')).toMatchObject({ title: 'A, reworded', priority: 2, ready: true });
      expect(found.get('queue:b.md')).toMatchObject({ title: 'B', closed: true, ready: false });

      expect((await queue.sync(changed.cursor)).issues).toEqual([]);
    });

    it('reports a deleted file as closed, once', async () => {
      put('claimed', 'gone.md', task('Gone'));
      const first = await queue.sync(null);
      rmSync(path('claimed', 'gone.md'));
      const second = await queue.sync(first.cursor);
      expect(second.issues).toEqual([
        expect.objectContaining({ ref: 'queue:gone.md', title: 'gone', closed: true, ready: false, updatedAt: 1_000 }),
      ]);
      expect((await queue.sync(second.cursor)).issues).toEqual([]);
    });

    it('reports a malformed file once, and again once it is edited', async () => {
      put('incoming', 'bad.md', '# Bad\nPRIORITY: soon\n');
      const first = await queue.sync(null);
      await queue.sync(first.cursor);
      expect(skipped).toHaveLength(1);
      writeFileSync(path('incoming', 'bad.md'), '# Bad\nPRIORITY: P3\n');
      expect((await queue.sync(first.cursor)).issues).toEqual([expect.objectContaining({ ref: 'queue:bad.md', priority: -1 })]);
    });

    it('treats a cursor it cannot read as a first sync', async () => {
      put('incoming', 'a.md', task('A'));
      for (const cursor of ['not json', '{"v":9}', '[]', 'null']) {
        expect((await queue.sync(cursor)).issues).toHaveLength(1);
      }
    });

    it('counts a file found in two folders where it got furthest', async () => {
      put('incoming', 'twice.md', task('Twice'));
      put('done', 'twice.md', task('Twice'));
      expect((await queue.sync(null)).issues).toEqual([expect.objectContaining({ ref: 'queue:twice.md', closed: true })]);
    });

    it('stops when asked to', async () => {
      put('incoming', 'a.md', task('A'));
      await expect(queue.sync(null, AbortSignal.abort())).rejects.toThrow();
    });
  });

  describe('claim', () => {
    it('moves the file from incoming to claimed, once', async () => {
      put('incoming', 'a.md', exampleTask);
      expect(await queue.claim('queue:a.md')).toBe(true);
      expect(filesIn('incoming')).toEqual([]);
      expect(readFileSync(path('claimed', 'a.md'), 'utf8')).toBe(exampleTask);
      expect(await queue.claim('queue:a.md')).toBe(false);
      expect(byRef((await queue.sync(null)).issues).get('queue:a.md')).toMatchObject({ ready: false, closed: false });
    });

    it('answers false for a file nobody queued', async () => {
      expect(await queue.claim('queue:missing.md')).toBe(false);
    });

    it('never replaces a claimed file of the same name', async () => {
      put('incoming', 'same.md', task('New'));
      put('claimed', 'same.md', task('Old'));
      expect(await queue.claim('queue:same.md')).toBe(false);
      expect(readFileSync(path('incoming', 'same.md'), 'utf8')).toBe(task('New'));
      expect(readFileSync(path('claimed', 'same.md'), 'utf8')).toBe(task('Old'));
    });

    it('refuses refs that are not queue files', async () => {
      for (const ref of ['github:o/r#1', 'queue:', 'queue:../../etc/passwd', 'queue:a/b.md', 'queue:.hidden.md']) {
        await expect(queue.claim(ref)).rejects.toThrow(TrackerError);
      }
      expect(fileNameOfRef('queue:0007-fix login.md')).toBe('0007-fix login.md');
    });
  });

  describe('report', () => {
    beforeEach(async () => {
      put('incoming', 'a.md', exampleTask);
      expect(await queue.claim('queue:a.md')).toBe(true);
    });

    it('notes the state of a task in progress in place', async () => {
      await queue.report('queue:a.md', status('running'));
      expect(filesIn('claimed')).toEqual(['a.md']);
      expect(readFileSync(path('claimed', 'a.md'), 'utf8')).toBe(
        `${exampleTask}\n## Orch\n- state: running\n- summary: now running\n- attempts: 2\n- cost: $0.50\n`,
      );
    });

    it('gives way to an edit a person makes in place while Orch writes its note: it reads again and writes on top', async () => {
      const edit = `${exampleTask}\nA person's line.\n`;
      let edited = false;
      // The person saves the file after Orch has read it and before Orch's copy replaces it: the
      // note's summary is read in between, so the edit lands exactly there.
      const report = {
        ...status('running'),
        get summary() {
          if (!edited) {
            edited = true;
            writeFileSync(path('claimed', 'a.md'), edit);
          }
          return 'now running';
        },
      };
      await queue.report('queue:a.md', report);
      const text = readFileSync(path('claimed', 'a.md'), 'utf8');
      expect(text).toContain("A person's line.");
      expect(text).toContain('- state: running\n- summary: now running');
    });

    it('moves a finished task to done/ with its note, updated rather than repeated', async () => {
      await queue.report('queue:a.md', status('running'));
      await queue.report('queue:a.md', { ...status('done', 'Merged as abc123.'), pullRequestUrl: 'https://example.com/pr/9' });
      expect(filesIn('claimed')).toEqual([]);
      const text = readFileSync(path('done', 'a.md'), 'utf8');
      expect(text.match(/## Orch/g)).toHaveLength(1);
      expect(text).toContain('- state: done\n- summary: Merged as abc123.\n- attempts: 2\n- cost: $0.50\n- pull request: https://example.com/pr/9\n');
      expect(parseTask(text, 'a.md')).toEqual({
        ...parseTask(exampleTask, 'a.md'),
        sections: [{ heading: 'Orch', text: expect.stringContaining('- state: done') as unknown }],
      });
      expect(filesIn('done')).toEqual(['a.md']);
    });

    it('moves a task that needs review or was cancelled to failed/', async () => {
      await queue.report('queue:a.md', status('needs_review', 'The tests failed three times.'));
      expect(filesIn('failed')).toEqual(['a.md']);
      expect(readFileSync(path('failed', 'a.md'), 'utf8')).toContain('- state: needs_review\n- summary: The tests failed three times.');

      put('incoming', 'b.md', task('B'));
      await queue.report('queue:b.md', status('cancelled'));
      expect(filesIn('failed')).toEqual(['a.md', 'b.md']);
      expect(filesIn('incoming')).toEqual([]);
    });

    it('never takes a file out of failed/, even when its task is requeued: moving it back is for a person', async () => {
      await queue.report('queue:a.md', status('needs_review'));
      put('claimed', 'a.md', task('Another A'));
      await queue.report('queue:a.md', status('new', 'Requeued by a person.'));
      expect(readFileSync(path('failed', 'a.md'), 'utf8')).toContain('- state: new\n');
      expect(readFileSync(path('claimed', 'a.md'), 'utf8')).toBe(task('Another A'));
      await queue.report('queue:a.md', status('done'));
      expect(filesIn('failed')).toEqual(['a.md']);
      expect(filesIn('done')).toEqual([]);
    });

    it('says a file is closed once it is in done/ or failed/ or gone', async () => {
      expect(await queue.isClosed('queue:a.md')).toBe(false);
      await queue.report('queue:a.md', status('cancelled'));
      expect(await queue.isClosed('queue:a.md')).toBe(true);
      rmSync(path('failed', 'a.md'));
      expect(await queue.isClosed('queue:a.md')).toBe(true);
    });

    it('leaves the file of a waiting task in incoming/, and takes it to claimed/ once an agent works on it', async () => {
      put('incoming', 'b.md', task('B'));
      await queue.report('queue:b.md', status('new'));
      expect(readFileSync(path('incoming', 'b.md'), 'utf8')).toBe(task('B'));
      await queue.report('queue:b.md', status('running'));
      expect(existsSync(path('incoming', 'b.md'))).toBe(false);
      expect(readFileSync(path('claimed', 'b.md'), 'utf8')).toContain('- state: running\n');
    });

    it('never takes a file out of done/, even when Orch cancels its task', async () => {
      mkdirSync(join(repo, 'ops', 'queue', 'done'));
      renameSync(path('claimed', 'a.md'), path('done', 'a.md'));
      await queue.report('queue:a.md', status('cancelled', 'Closed in the queue.'));
      expect(filesIn('done')).toEqual(['a.md']);
      expect(readFileSync(path('done', 'a.md'), 'utf8')).toContain('- state: cancelled\n');
    });

    it('does nothing for a file that was deleted', async () => {
      rmSync(path('claimed', 'a.md'));
      await expect(queue.report('queue:a.md', status('done'))).resolves.toBeUndefined();
      expect(filesIn('done')).toEqual([]);
    });

    it('reports on the copy that got furthest when a name is in two folders', async () => {
      put('done', 'a.md', task('Another A'));
      await queue.report('queue:a.md', status('needs_review'));
      expect(filesIn('failed')).toEqual([]);
      expect(readFileSync(path('claimed', 'a.md'), 'utf8')).toBe(exampleTask);
      expect(readFileSync(path('done', 'a.md'), 'utf8')).toContain('- state: needs_review');
    });

    it('keeps the line endings and the permissions of the file, and leaves no temporary files', async () => {
      writeFileSync(path('claimed', 'a.md'), exampleTask.replace(/\n/g, '\r\n'));
      chmodSync(path('claimed', 'a.md'), 0o640);
      await queue.report('queue:a.md', status('running'));
      await queue.report('queue:a.md', status('blocked', 'Waiting on the API key.'));
      const text = readFileSync(path('claimed', 'a.md'), 'utf8');
      expect(text.replace(/\r\n/g, '')).not.toContain('\n');
      expect(text).toContain('- state: blocked\r\n- summary: Waiting on the API key.\r\n');
      expect(statSync(path('claimed', 'a.md')).mode & 0o777).toBe(0o640);
      expect(filesIn('claimed')).toEqual(['a.md']);
    });
  });
});

describe('mapping the queue to Orch', () => {
  it('maps file-queue schedulers\' role names to Orch\'s roles', () => {
    expect(roleFromQueue('implement')).toBe('implement');
    expect(roleFromQueue('Implementer')).toBe('implement');
    expect(roleFromQueue('tester')).toBe('test');
    expect(roleFromQueue('reviewer')).toBe('review');
    expect(roleFromQueue('product_manager')).toBe('plan');
    expect(roleFromQueue('Product Manager')).toBe('plan');
    expect(roleFromQueue('bugfix')).toBe('fix');
    for (const role of ROLES) expect(roleFromQueue(role.toUpperCase())).toBe(role);
    expect(roleFromQueue('astronaut')).toBeNull();
    expect(roleFromQueue(null)).toBeNull();
  });

  it('turns levels (P0 most urgent) into Orch priorities (higher first), P2 being the default 0', () => {
    expect([0, 1, 2, 3, 10].map(priorityFromLevel)).toEqual([2, 1, 0, -1, -8]);
    expect(priorityFromLevel(null)).toBe(0);
  });

  it('puts a reported file where its state belongs', () => {
    expect(folderForState('done', 'claimed')).toBe('done');
    expect(folderForState('needs_review', 'claimed')).toBe('failed');
    expect(folderForState('cancelled', 'incoming')).toBe('failed');
    expect(folderForState('running', 'claimed')).toBe('claimed');
    // A file in failed/ or done/ stays there, whoever put it there and whatever its task did since.
    expect(folderForState('new', 'failed')).toBe('failed');
    expect(folderForState('running', 'failed')).toBe('failed');
    expect(folderForState('done', 'failed')).toBe('failed');
    expect(folderForState('needs_review', 'done')).toBe('done');
    expect(folderForState('running', 'incoming')).toBe('claimed');
    expect(folderForState('new', 'incoming')).toBeNull();
    expect(folderForState('routed', 'incoming')).toBeNull();
    expect(folderForState('blocked', 'incoming')).toBeNull();
    expect(folderForState('cancelled', 'done')).toBe('done');
  });
});
