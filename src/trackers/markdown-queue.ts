// A folder of task files as a tracker: `incoming/` waits for a taker, `claimed/` is being worked on,
// `done/` and `failed/` are finished. Anyone (a person, another scheduler, Orch) moves files between
// them; a move is a rename, which the filesystem makes atomic, so a file is always in exactly one place
// and two takers can never both get it.

import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { MAX_BODY_BYTES, bodyTooLarge, formatBytes } from '../core/task-limits.js';
import type { EpochMs, Role, TaskState } from '../core/types.js';
import { parseTask, TaskFileError, taskBody, type MarkdownTask } from './markdown-task.js';
import { writeStatusNote } from './markdown-note.js';
import { errorCode, READ_FLAGS } from './queue-file-io.js';
import { watchFolders } from './folder-watch.js';
import { TrackerError, type StatusReport, type SyncResult, type TrackedIssue, type Tracker } from './tracker.js';

export const QUEUE_FOLDERS = ['incoming', 'claimed', 'done', 'failed'] as const;
export type QueueFolder = (typeof QUEUE_FOLDERS)[number];

/** Where to look first: a name found in two folders (a copy by hand) counts where it got furthest. */
const PRECEDENCE: readonly QueueFolder[] = ['done', 'failed', 'claimed', 'incoming'];

const REF_PREFIX = 'queue:';
/** A task file holds a body and a little more (title, headers, Orch's note); one far larger is never read whole. */
const MAX_FILE_BYTES = MAX_BODY_BYTES + 64 * 1024;

export interface MarkdownQueueOptions {
  tracker: { kind: 'markdown'; dir: string };
  /** The repository root the config's `dir` is relative to; null for a project with no local repository. */
  projectPath: string | null;
  /** Told about each task file that cannot be read (one line naming the file and line); the file is skipped. */
  onSkippedFile?: (message: string) => void;
  now?: () => EpochMs;
}

/**
 * ROLE as file-queue schedulers write it (task roles, or agent roles such as implementer or
 * product_manager) to Orch's roles. Compared without case, spaces, `_` or `-`. Anything else runs with
 * the default role.
 */
const ROLE_NAMES: Readonly<Record<string, Role>> = {
  implement: 'implement',
  implementer: 'implement',
  implementation: 'implement',
  developer: 'implement',
  dev: 'implement',
  feature: 'implement',
  test: 'test',
  tester: 'test',
  testing: 'test',
  qa: 'test',
  review: 'review',
  reviewer: 'review',
  plan: 'plan',
  planner: 'plan',
  planning: 'plan',
  productmanager: 'plan',
  pm: 'plan',
  fix: 'fix',
  fixer: 'fix',
  bugfix: 'fix',
  bug: 'fix',
};

export function roleFromQueue(role: string | null): Role | null {
  if (role === null) return null;
  return ROLE_NAMES[role.replace(/[\s_-]+/g, '').toLowerCase()] ?? null;
}

/** The level a file without PRIORITY gets: P2, which is Orch's default priority 0. */
export const DEFAULT_LEVEL = 2;

/**
 * PRIORITY levels count down in urgency (P0 first) while Orch runs higher priorities first, on the
 * scale of `orch task add --priority`: P0 → 2 (urgent), P1 → 1 (high), P2 → 0 (normal), P3 → -1 (low), ….
 */
export function priorityFromLevel(level: number | null): number {
  return DEFAULT_LEVEL - (level ?? DEFAULT_LEVEL);
}

const AT_WORK: ReadonlySet<TaskState> = new Set(['running', 'judging', 'merging']);

/** Where a report puts the file; null: leave it where it is and write nothing. */
export function folderForState(state: TaskState, current: QueueFolder): QueueFolder | null {
  // A finished file stays finished: whoever moved it to done/ or failed/ meant it, even while its
  // attempt still ran (the sync then cancels the task). Orch notes how the task went, and that is all.
  if (current === 'done' || current === 'failed') return current;
  if (state === 'done') return 'done';
  if (state === 'needs_review' || state === 'cancelled') return 'failed';
  // A task that only waits leaves its file in incoming/: claimed/ means an agent works on it. The
  // scheduler claims the file as the task starts; a run started another way (a pull worker's claim,
  // `orch task run`) takes it here.
  if (current === 'incoming') return AT_WORK.has(state) ? 'claimed' : null;
  return 'claimed';
}

/** The queue file a ref names, refusing anything that could reach outside the queue's folders. */
export function fileNameOfRef(ref: string): string {
  const name = ref.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : '';
  if (name === '' || name.startsWith('.') || /[\\/\0]/.test(name)) {
    throw new TrackerError(`"${ref}" is not a markdown queue ref (queue:<file name>)`);
  }
  return name;
}

/** What the cursor remembers of each file, so an unchanged file is neither read nor returned again. */
interface Cursor {
  v: 1;
  files: Record<string, string>;
}

function decodeCursor(cursor: string | null): Map<string, string> | null {
  if (cursor === null) return null;
  try {
    const parsed = JSON.parse(cursor) as Partial<Cursor>;
    if (parsed.v !== 1 || typeof parsed.files !== 'object' || parsed.files === null) return null;
    return new Map(Object.entries(parsed.files).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    // A cursor from another version or mangled on the way: a full sync is always correct.
    return null;
  }
}

/** Changes with any write (size, times, a rename's new inode from an atomic write) and any move. */
function fingerprint(folder: QueueFolder, stats: Stats): string {
  const facts = `${folder}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
  return `${folder[0]}${createHash('sha256').update(facts).digest('base64url').slice(0, 11)}`;
}

function isTaskFileName(name: string): boolean {
  // Dotfiles include this tracker's own half-written temporary files.
  return name.endsWith('.md') && !name.startsWith('.');
}


const ONLY_REGULAR_FILES = 'Orch reads only regular files in the queue';

/** Why an entry that is not a regular file is refused; null for a regular file. */
export function notRegularFile(stats: Stats): string | null {
  if (stats.isFile()) return null;
  const what = stats.isSymbolicLink()
    ? 'a symbolic link'
    : stats.isDirectory()
      ? 'a directory'
      : stats.isFIFO()
        ? 'a named pipe (FIFO)'
        : stats.isSocket()
          ? 'a socket'
          : 'a device';
  return `is ${what}; ${ONLY_REGULAR_FILES}`;
}


export class MarkdownQueueTracker implements Tracker {
  readonly kind = 'markdown' as const;
  /** Absolute path of the queue. */
  readonly root: string;
  /** The queue as the config names it, for messages that mean the same on any machine. */
  private readonly configDir: string;
  private readonly onSkippedFile: (message: string) => void;
  private readonly now: () => EpochMs;

  constructor(options: MarkdownQueueOptions) {
    if (options.projectPath === null) {
      throw new TrackerError('a markdown queue lives in the repository: the project needs a local path');
    }
    if (isAbsolute(options.tracker.dir)) {
      throw new TrackerError(`the queue directory "${options.tracker.dir}" must be relative to the repository root`);
    }
    this.configDir = options.tracker.dir;
    this.root = resolve(options.projectPath, options.tracker.dir);
    this.onSkippedFile = options.onSkippedFile ?? (() => {});
    this.now = options.now ?? Date.now;
  }

  async sync(cursor: string | null, signal?: AbortSignal): Promise<SyncResult> {
    signal?.throwIfAborted();
    const previous = decodeCursor(cursor);
    const listing = await this.list();
    const files = new Map<string, string>();
    const issues: TrackedIssue[] = [];

    const visit = async (name: string, folder: QueueFolder): Promise<boolean> => {
      const found = await this.statFrom(name, folder);
      if (!found) return false;
      const mark = fingerprint(found.folder, found.stats);
      files.set(name, mark);
      if (previous?.get(name) === mark) return true;
      const refused = notRegularFile(found.stats);
      if (refused !== null) {
        this.onSkippedFile(`${this.display(found.folder, name)}: ${refused}`);
        return true;
      }
      const issue = await this.read(name, found.folder, found.stats);
      if (issue) issues.push(issue);
      return true;
    };

    for (const [name, folder] of listing) {
      signal?.throwIfAborted();
      // A file gone from every folder since the listing is dealt with among the vanished, below.
      await visit(name, folder);
    }
    for (const name of previous?.keys() ?? []) {
      if (files.has(name)) continue;
      signal?.throwIfAborted();
      // A file moving backwards (failed/ → incoming/) during the listing is missed by it; look once more
      // before calling it deleted.
      if (await visit(name, 'incoming')) continue;
      issues.push(this.vanished(name));
    }
    return { issues, cursor: JSON.stringify({ v: 1, files: Object.fromEntries(files) } satisfies Cursor), notBefore: null };
  }

  async claim(ref: string): Promise<boolean> {
    const name = fileNameOfRef(ref);
    const target = join(this.root, 'claimed', name);
    await this.ensureFolder('claimed');
    // rename(2) replaces an existing target; a same-named file already claimed must not be lost.
    if (await this.exists(target)) return false;
    try {
      await rename(join(this.root, 'incoming', name), target);
      return true;
    } catch (error) {
      // The file left incoming/ first: another taker has it (or a person removed it).
      if (errorCode(error) === 'ENOENT') return false;
      throw this.failure(`cannot claim ${name}`, error);
    }
  }

  async report(ref: string, status: StatusReport): Promise<void> {
    const name = fileNameOfRef(ref);
    // A person may move the file while Orch does; try again from wherever it went.
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.locate(name);
      // Deleted: nothing left to mirror, and nothing to retry.
      if (current === null) return;
      const target = folderForState(status.state, current);
      if (target === null) return;
      if (target !== current && !(await this.move(name, current, target))) continue;
      try {
        // Changed by someone while Orch wrote (moved, or edited in place): read it again and write on top.
        if (!(await writeStatusNote(join(this.root, target, name), status))) continue;
      } catch (error) {
        throw this.failure(`cannot write the status note to ${this.display(target, name)}`, error);
      }
      return;
    }
    throw new TrackerError(`${this.display('', name)} kept moving while Orch reported on it`);
  }

  async isClosed(ref: string): Promise<boolean> {
    const current = await this.locate(fileNameOfRef(ref));
    return current === null || current === 'done' || current === 'failed';
  }

  /**
   * Watches the queue and its folders (a folder made later included) and calls `onChange` once per
   * burst of changes; what cannot be watched is left to the poll.
   */
  watch(onChange: () => void): () => void {
    return watchFolders(this.root, QUEUE_FOLDERS, onChange);
  }

  /** Every task file by name, in the folder it counts in. */
  private async list(): Promise<Map<string, QueueFolder>> {
    if (!(await this.exists(this.root))) {
      throw new TrackerError(`the queue directory ${this.configDir} does not exist in the repository`);
    }
    const listing = new Map<string, QueueFolder>();
    for (const folder of PRECEDENCE) {
      let names: string[];
      try {
        names = await readdir(join(this.root, folder));
      } catch (error) {
        // A folder nobody has needed yet.
        if (errorCode(error) === 'ENOENT') continue;
        throw this.failure(`cannot list ${this.display(folder)}`, error);
      }
      for (const name of names.sort()) {
        if (isTaskFileName(name) && !listing.has(name)) listing.set(name, folder);
      }
    }
    return listing;
  }

  /**
   * The entry's folder and facts, looking in `first` and then everywhere else. The entry itself, never
   * what a link points at: callers refuse anything but a regular file.
   */
  private async statFrom(name: string, first: QueueFolder): Promise<{ folder: QueueFolder; stats: Stats } | null> {
    for (const folder of [first, ...PRECEDENCE.filter((other) => other !== first)]) {
      try {
        return { folder, stats: await lstat(join(this.root, folder, name)) };
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw this.failure(`cannot read ${this.display(folder, name)}`, error);
      }
    }
    return null;
  }

  private async locate(name: string): Promise<QueueFolder | null> {
    return (await this.statFrom(name, PRECEDENCE[0]!))?.folder ?? null;
  }

  /** The issue a file describes, or null (reported) when the file is not a task Orch can read. */
  private async read(name: string, folder: QueueFolder, stats: Stats): Promise<TrackedIssue | null> {
    let task: MarkdownTask;
    const tooLarge = () => this.onSkippedFile(`${this.display(folder, name)}: ${bodyTooLarge(`in a file of ${formatBytes(stats.size)}`)}`);
    if (stats.size > MAX_FILE_BYTES) {
      tooLarge();
      return null;
    }
    try {
      const handle = await open(join(this.root, folder, name), READ_FLAGS);
      try {
        // Replaced since the lstat by something that is not a file: refused all the same.
        const refused = notRegularFile(await handle.stat());
        if (refused !== null) {
          this.onSkippedFile(`${this.display(folder, name)}: ${refused}`);
          return null;
        }
        // Bounded even so: the file may have grown since the stat.
        const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        if (bytesRead > MAX_FILE_BYTES) {
          tooLarge();
          return null;
        }
        task = parseTask(buffer.subarray(0, bytesRead).toString('utf8'), this.display(folder, name));
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (error instanceof TaskFileError) {
        this.onSkippedFile(error.message);
        return null;
      }
      // Moved since the stat: the next sync sees it where it went (its fingerprint will differ).
      if (errorCode(error) === 'ENOENT') return null;
      // Swapped for a symbolic link since the lstat: O_NOFOLLOW refused to open it.
      if (errorCode(error) === 'ELOOP') {
        this.onSkippedFile(`${this.display(folder, name)}: is a symbolic link; ${ONLY_REGULAR_FILES}`);
        return null;
      }
      this.onSkippedFile(`${this.display(folder, name)}: cannot read it (${(error as Error).message})`);
      return null;
    }
    return {
      ref: REF_PREFIX + name,
      title: task.title,
      body: taskBody(task),
      labels: [],
      priority: priorityFromLevel(task.priority),
      role: roleFromQueue(task.role),
      dependsOn: [],
      parent: null,
      ready: folder === 'incoming' && blockedHeader(task) === null,
      closed: folder === 'done' || folder === 'failed',
      held: folder === 'incoming' || folder === 'claimed' ? blockedHeader(task) : null,
      url: null,
      updatedAt: Math.trunc(stats.mtimeMs),
    };
  }

  /** A file that was in the queue and is now in none of its folders: closed, with nothing left to read. */
  private vanished(name: string): TrackedIssue {
    return {
      ref: REF_PREFIX + name,
      title: name.replace(/\.md$/, ''),
      body: '',
      labels: [],
      priority: 0,
      role: null,
      dependsOn: [],
      parent: null,
      ready: false,
      closed: true,
      url: null,
      updatedAt: this.now(),
    };
  }

  /** Moves a file between folders; false when it was no longer where we looked. */
  private async move(name: string, from: QueueFolder, to: QueueFolder): Promise<boolean> {
    const target = join(this.root, to, name);
    await this.ensureFolder(to);
    if (await this.exists(target)) {
      throw new TrackerError(`cannot move ${this.display(from, name)} to ${to}/: a file of that name is already there`);
    }
    try {
      await rename(join(this.root, from, name), target);
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw this.failure(`cannot move ${this.display(from, name)} to ${to}/`, error);
    }
  }

  /**
   * Replaces the file's Orch note through a temporary file and a rename, so a reader never sees half a
   * file. If the file is replaced or moved meanwhile, the other writer wins and the note waits for the
   * next report rather than bringing back a file that left.
   */
  private async ensureFolder(folder: QueueFolder): Promise<void> {
    try {
      await mkdir(join(this.root, folder), { recursive: true });
    } catch (error) {
      throw this.failure(`cannot create ${this.display(folder)}`, error);
    }
  }

  private async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw this.failure(`cannot read ${path}`, error);
    }
  }

  /** A path as the config spells it, so messages mean the same wherever the repository is. */
  private display(folder: QueueFolder | '', name = ''): string {
    return [this.configDir, folder, name].filter(Boolean).join('/');
  }

  private failure(what: string, error: unknown): TrackerError {
    return new TrackerError(`${what}: ${(error as Error).message}`);
  }
}

/**
 * A person holds a queued or claimed task by writing a `BLOCKED: <why>` header into its file, and lets
 * it go on by deleting the header (or writing `BLOCKED: no`).
 */
function blockedHeader(task: MarkdownTask): string | null {
  const header = task.otherHeaders.find((h) => h.name.trim().toUpperCase() === 'BLOCKED');
  const value = header?.value.trim() ?? '';
  if (!header || /^(no|false|0|-)?$/i.test(value)) return null;
  return `its file says BLOCKED: ${value}`;
}
