// The task-file format of a markdown queue, as people and other schedulers write it:
//
//   # [TASK-a1b2c3d4] Add input validation
//
//   ROLE: implement
//   PRIORITY: P1
//   BRANCH: main
//   CREATED: 2024-01-15T10:30:00Z
//   CREATED_BY: pm-agent
//
//   ## Context
//   Background and motivation...
//
//   ## Acceptance Criteria
//   - [ ] Criterion 1
//
// Pure: text in, task out, and back. Reading is forgiving about what hands produce (header case, blank
// lines, CRLF, missing or unknown headers) and strict only where guessing would run the wrong work:
// a file without a title, or a PRIORITY that is not a level, is refused with its file and line.

export interface TaskHeader {
  /** As written; unknown headers keep their spelling. */
  name: string;
  value: string;
}

export interface Criterion {
  /** `- [x]` true, `- [ ]` false, a plain `- ` item null. */
  checked: boolean | null;
  /** Continuation lines joined with `\n`, relative indentation kept. */
  text: string;
}

export interface TaskSection {
  heading: string;
  /** Verbatim, without the blank lines around it. */
  text: string;
}

/**
 * One task file. Text blocks carry no `\r`, no blank first or last line, and no `## ` heading outside
 * a code fence (that would start a new section); serializeTask relies on that to read back the same task.
 */
export interface MarkdownTask {
  /** `TASK-a1b2c3d4` from a `# [TASK-a1b2c3d4] Title` line; null when the title carries none. */
  id: string | null;
  title: string;
  /** The ROLE header as written; Orch's meaning of it is the tracker's business. */
  role: string | null;
  /** The PRIORITY level: `P1` and `1` are both 1; lower is more urgent. */
  priority: number | null;
  branch: string | null;
  created: string | null;
  createdBy: string | null;
  /** Headers this format does not define, in file order. */
  otherHeaders: TaskHeader[];
  /** Prose between the headers and the first section; null when there is none. */
  description: string | null;
  context: string | null;
  acceptanceCriteria: Criterion[] | null;
  /** Every other `## ` section (the Orch status note included), in file order. */
  sections: TaskSection[];
}

/** A file Orch cannot read as a task: one line naming the file and the line. */
export class TaskFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'TaskFileError';
  }
}

/** The heading of the status note Orch keeps in a task file. */
export const ORCH_SECTION = 'Orch';

type KnownHeader = 'role' | 'priority' | 'branch' | 'created' | 'createdBy';

/** Canonical spelling, in the order serializeTask writes them. */
const KNOWN_HEADERS: ReadonlyArray<readonly [KnownHeader, string]> = [
  ['role', 'ROLE'],
  ['priority', 'PRIORITY'],
  ['branch', 'BRANCH'],
  ['created', 'CREATED'],
  ['createdBy', 'CREATED_BY'],
];

const TITLE = /^ {0,3}#(?!#)[ \t]*(.*)$/;
const SECTION = /^ {0,3}##(?!#)[ \t]*(\S.*)$/;
const TITLE_ID = /^\[([^\]\s]+)\][ \t]*(.*)$/;
// `https://…` is prose, not a header named https.
const HEADER = /^[ \t]*([A-Za-z][\w-]*(?: [A-Za-z][\w-]*){0,2})[ \t]*:(?!\/\/)[ \t]*(.*)$/;
const LEVEL = /^[Pp]?[ \t]*(\d{1,6})$/;
const LIST_ITEM = /^([ \t]*)([-*+]|\d{1,9}[.)])(?:[ \t]+|$)(.*)$/;
const CHECKBOX = /^\[([ xX])\](?:[ \t]+|$)(.*)$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** Header and section names compare without case, spaces, `_`, `-` or a trailing colon. */
function normalizeName(name: string): string {
  return name.replace(/:\s*$/, '').replace(/[\s_-]+/g, '').toLowerCase();
}

function knownHeaderOf(name: string): KnownHeader | null {
  const normalized = normalizeName(name);
  for (const [key, spelling] of KNOWN_HEADERS) {
    if (normalizeName(spelling) === normalized) return key;
  }
  return null;
}

function sectionKind(heading: string): 'context' | 'criteria' | 'other' {
  const normalized = normalizeName(heading);
  if (normalized === 'context') return 'context';
  if (normalized === 'acceptancecriteria') return 'criteria';
  return 'other';
}

function isOrchHeading(heading: string): boolean {
  return normalizeName(heading) === normalizeName(ORCH_SECTION);
}

function isBlank(line: string): boolean {
  return line.trim() === '';
}

/** Splits any line ending; a byte-order mark is not part of the title. */
function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n');
}

/** For each line, whether it sits inside a fenced code block, where `#` lines are code, not headings. */
function fencedLines(lines: readonly string[]): boolean[] {
  const fenced: boolean[] = [];
  let open: string | null = null;
  for (const line of lines) {
    const fence = FENCE.exec(line)?.[1];
    if (open === null) {
      fenced.push(false);
      if (fence) open = fence;
    } else {
      fenced.push(true);
      if (fence && fence[0] === open[0] && fence.length >= open.length && line.trim() === fence) open = null;
    }
  }
  return fenced;
}

function sectionHeading(line: string): string | null {
  const match = SECTION.exec(line);
  // A closing run of `#` is decoration (`## Context ##`).
  return match ? match[1]!.replace(/[ \t]+#+[ \t]*$/, '').trim() : null;
}

/** Lines as one block, without the blank lines around it; null when nothing but blanks. */
function block(lines: readonly string[]): string | null {
  let start = 0;
  let end = lines.length;
  while (start < end && isBlank(lines[start]!)) start++;
  while (end > start && isBlank(lines[end - 1]!)) end--;
  return start === end ? null : lines.slice(start, end).join('\n');
}

/**
 * Reads a task file. `file` only names it in errors (e.g. `queue/incoming/0007-login.md`).
 * @throws TaskFileError when the file has no title, a PRIORITY that is not a level, or a header twice.
 */
export function parseTask(text: string, file: string): MarkdownTask {
  const lines = splitLines(text);
  const fenced = fencedLines(lines);
  const fail = (index: number, reason: string): never => {
    throw new TaskFileError(file, index + 1, reason);
  };

  let index = 0;
  while (index < lines.length && isBlank(lines[index]!)) index++;
  if (index === lines.length) fail(0, 'the file is empty: a task starts with a "# Title" line');
  const titleMatch = TITLE.exec(lines[index]!);
  if (!titleMatch) fail(index, `expected the title as "# Title", found "${lines[index]!.trim().slice(0, 60)}"`);
  const heading = titleMatch![1]!.replace(/[ \t]+#+[ \t]*$/, '').trim();
  const idMatch = TITLE_ID.exec(heading);
  const task: MarkdownTask = {
    id: idMatch ? idMatch[1]! : null,
    title: idMatch ? idMatch[2]!.trim() : heading,
    role: null,
    priority: null,
    branch: null,
    created: null,
    createdBy: null,
    otherHeaders: [],
    description: null,
    context: null,
    acceptanceCriteria: null,
    sections: [],
  };
  if (task.title === '') fail(index, 'the title is empty');
  index++;

  const given = new Map<KnownHeader, { line: number; value: string }>();
  for (; index < lines.length; index++) {
    const line = lines[index]!;
    if (isBlank(line)) continue;
    const match = HEADER.exec(line);
    if (!match) break;
    const [, name, rawValue] = match as unknown as [string, string, string];
    const value = rawValue.trim();
    const known = knownHeaderOf(name);
    if (known === null) {
      task.otherHeaders.push({ name, value });
      continue;
    }
    // An empty header says nothing, like a missing one; a repeated one only matters if it disagrees.
    if (value === '') continue;
    const earlier = given.get(known);
    if (earlier !== undefined) {
      if (earlier.value === value) continue;
      fail(index, `${name.trim()} is given twice with different values (first on line ${earlier.line + 1})`);
    }
    given.set(known, { line: index, value });
    if (known === 'priority') {
      const level = LEVEL.exec(value);
      if (!level) fail(index, `PRIORITY "${value}" is not a number: write a level such as P1 or 1 (P0 is the most urgent)`);
      task.priority = Number(level![1]);
    } else {
      task[known] = value;
    }
  }

  // The rest: an optional description, then `## ` sections up to the next heading outside a fence.
  let sectionStart = index;
  let sectionName: string | null = null;
  const closeSection = (end: number): void => {
    const body = lines.slice(sectionStart, end);
    if (sectionName === null) {
      task.description = block(body);
      return;
    }
    const kind = sectionKind(sectionName);
    const text = block(body) ?? '';
    if (kind === 'context') {
      // A second Context adds to the first rather than losing either.
      if (task.context === null || task.context === '') task.context = text;
      else if (text !== '') task.context = `${task.context}\n\n${text}`;
    } else if (kind === 'criteria') {
      task.acceptanceCriteria = [...(task.acceptanceCriteria ?? []), ...parseCriteria(body)];
    } else {
      task.sections.push({ heading: sectionName, text });
    }
  };
  for (; index < lines.length; index++) {
    const name = fenced[index] ? null : sectionHeading(lines[index]!);
    if (name === null) continue;
    closeSection(index);
    sectionName = name;
    sectionStart = index + 1;
  }
  closeSection(lines.length);
  return task;
}

/**
 * A list as people write it: `-`, `*`, `+` or `1.` items with or without a checkbox; indented or
 * directly following lines continue the item above; prose on its own becomes an item of its own.
 */
function parseCriteria(lines: readonly string[]): Criterion[] {
  const items: Criterion[] = [];
  let current: { item: Criterion; contentIndent: number } | null = null;
  let blanksPending = 0;
  for (const raw of lines) {
    const line = raw.replace(/\s+$/, '');
    if (line === '') {
      if (current) blanksPending++;
      continue;
    }
    const indent = /^[ \t]*/.exec(line)![0].length;
    const item = LIST_ITEM.exec(line);
    const continues = current !== null && (indent >= 2 || (blanksPending === 0 && !item));
    if (continues) {
      const strip = Math.min(indent, current!.contentIndent);
      current!.item.text += '\n'.repeat(blanksPending + 1) + line.slice(strip);
      blanksPending = 0;
      continue;
    }
    blanksPending = 0;
    let checked: boolean | null = null;
    let text = line.trim();
    let contentIndent = 2;
    if (item) {
      const [, leading, marker, rest] = item as unknown as [string, string, string, string];
      contentIndent = leading.length + marker.length + 1;
      text = rest.trim();
      const box = CHECKBOX.exec(text);
      if (box) {
        checked = box[1] !== ' ';
        text = box[2]!.trim();
      }
      // A bare bullet says nothing.
      if (checked === null && text === '') {
        current = null;
        continue;
      }
    }
    current = { item: { checked, text }, contentIndent };
    items.push(current.item);
  }
  return items;
}

/** Writes a task in the format's own layout; parseTask(serializeTask(task)) gives the same task back. */
export function serializeTask(task: MarkdownTask): string {
  const out: string[] = [task.id === null ? `# ${task.title}` : `# [${task.id}] ${task.title}`];
  const headers = [...KNOWN_HEADERS.flatMap(([key, spelling]) => {
    const value = task[key];
    if (value === null) return [];
    return [`${spelling}: ${key === 'priority' ? `P${value}` : value}`];
  }), ...task.otherHeaders.map((header) => `${header.name}: ${header.value}`.trimEnd())];
  if (headers.length > 0) out.push('', ...headers);
  const body = renderBody(task, { withOrchNote: true, withOtherHeaders: false });
  if (body !== '') out.push('', body);
  return `${out.join('\n')}\n`;
}

/**
 * What an agent should read: the description and sections, headers this format does not define (they
 * may matter to the work), but not Orch's own status note.
 */
export function taskBody(task: MarkdownTask): string {
  return renderBody(task, { withOrchNote: false, withOtherHeaders: true });
}

function renderBody(task: MarkdownTask, options: { withOrchNote: boolean; withOtherHeaders: boolean }): string {
  const blocks: string[] = [];
  if (options.withOtherHeaders && task.otherHeaders.length > 0) {
    blocks.push(task.otherHeaders.map((header) => `${header.name}: ${header.value}`.trimEnd()).join('\n'));
  }
  if (task.description !== null) blocks.push(task.description);
  const section = (heading: string, text: string) => (text === '' ? `## ${heading}` : `## ${heading}\n${text}`);
  if (task.context !== null) blocks.push(section('Context', task.context));
  if (task.acceptanceCriteria !== null) {
    blocks.push(section('Acceptance Criteria', task.acceptanceCriteria.map(renderCriterion).join('\n')));
  }
  for (const other of task.sections) {
    if (!options.withOrchNote && isOrchHeading(other.heading)) continue;
    blocks.push(section(other.heading, other.text));
  }
  return blocks.join('\n\n');
}

function renderCriterion(criterion: Criterion): string {
  const box = criterion.checked === null ? '' : criterion.checked ? '[x] ' : '[ ] ';
  const [first = '', ...rest] = criterion.text.split('\n');
  const continuation = rest.map((line) => (line === '' ? '' : `  ${line}`));
  return [`- ${box}${first}`.trimEnd(), ...continuation].join('\n');
}

/** What Orch says about a task in the file's `## Orch` section. */
export interface OrchNote {
  state: string;
  summary: string;
  attempts: number;
  costUsd: number;
  pullRequestUrl: string | null;
}

export function renderOrchNote(note: OrchNote): string[] {
  const lines = [
    `## ${ORCH_SECTION}`,
    `- state: ${note.state}`,
    `- summary: ${note.summary.replace(/\s+/g, ' ').trim() || '-'}`,
    `- attempts: ${note.attempts}`,
    `- cost: $${note.costUsd.toFixed(2)}`,
  ];
  if (note.pullRequestUrl) lines.push(`- pull request: ${note.pullRequestUrl}`);
  return lines;
}

/**
 * The file's text with its `## Orch` section replaced by `note`, or the note appended when there is
 * none. Every other line stays as the author wrote it, line endings included (trailing blank lines
 * aside); a second Orch section, say from a copy and paste, is folded into the one.
 */
export function withOrchNote(text: string, note: OrchNote): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const fenced = fencedLines(lines);
  const startsOrchNote = (index: number) => {
    const heading = fenced[index] ? null : sectionHeading(lines[index]!);
    return heading !== null && isOrchHeading(heading);
  };
  const sectionEnd = (start: number) => {
    let end = start + 1;
    while (end < lines.length && (fenced[end] || sectionHeading(lines[end]!) === null)) end++;
    return end;
  };

  const noteLines = renderOrchNote(note);
  const kept: string[] = [];
  let placed = false;
  for (let index = 0; index < lines.length; ) {
    if (!startsOrchNote(index)) {
      kept.push(lines[index]!);
      index++;
      continue;
    }
    const end = sectionEnd(index);
    if (!placed) {
      kept.push(...noteLines);
      // Keep the blank line that separated the old note from the section after it.
      if (end < lines.length) kept.push('');
      placed = true;
    }
    index = end;
  }
  if (!placed) {
    while (kept.length > 0 && isBlank(kept[kept.length - 1]!)) kept.pop();
    if (kept.length > 0) kept.push('');
    kept.push(...noteLines);
  }
  while (kept.length > 0 && isBlank(kept[kept.length - 1]!)) kept.pop();
  return kept.join(eol) + eol;
}
