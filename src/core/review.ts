// The review agent's side of the judge: the prompt that shows it the task and the diff, and the
// parsing of its answer — a JSON object saying whether the change should merge, read tolerantly
// (fenced or bare, comments and trailing commas allowed) and never guessed from prose.

import { z } from 'zod';
import { bareJsonObjects, fencedBlocks, parseLenientJson } from './result-contract.js';
import type { Task } from './types.js';
import { fencedBlock } from './verdict.js';

export interface ReviewAnswer {
  passed: boolean;
  reasoning: string;
  /** Problems that must be fixed before the change may merge; [] when none. */
  issues: string[];
}

export type ReviewParse = { ok: true; review: ReviewAnswer } | { ok: false; reason: string };

export type ReviewTask = Pick<Task, 'id' | 'title' | 'body'>;

/** The most diff a review prompt carries, in characters (≈ 25k tokens): enough for any reviewable change. */
export const REVIEW_DIFF_LIMIT = 100_000;

/** `passed` is required and must be a real boolean: "yes" or "true" in quotes is no verdict. */
const reviewAnswerSchema = z.object({
  passed: z.boolean(),
  reasoning: z.string().nullish(),
  issues: z.array(z.string()).nullish(),
});

const ANSWER_FORMAT = `End your final message with exactly one fenced JSON block in this form:

\`\`\`json
{
  "passed": false,
  "reasoning": "Two or three sentences on whether the change does what the task asks, and why.",
  "issues": ["One problem that must be fixed before merging, per entry."]
}
\`\`\`

"passed" is true only when the change should be merged as it is; then "issues" is empty.
"issues" names what must change, each specific enough to act on (file, what is wrong, what to do).`;

/**
 * The prompt for a review agent: the task (as quoted data), what to look for, the diff — cut to
 * `maxDiffChars` at file and line boundaries, saying what was left out — and the answer format.
 */
export function buildReviewPrompt(task: ReviewTask, diff: string, maxDiffChars = REVIEW_DIFF_LIMIT): string {
  const shown = truncateDiff(diff, maxDiffChars);
  const lines = [
    `You are reviewing a change another agent made for task #${task.id}, before it is merged.`,
    'Do not change any files: read, judge and answer. Tests and lint are checked separately.',
    '',
    '## The task, as written',
    '',
    ...fencedBlock(task.body.trim() ? `${task.title}\n\n${task.body.trim()}` : task.title, 'text'),
    '',
    '## What to check',
    '',
    '- Does the change do what the task asks, completely?',
    '- Is it correct: no bugs, unhandled edge cases or security problems?',
    '- Does it stay on task, without unrelated changes or leftover debugging?',
    '',
    '## The change',
    '',
  ];
  if (shown.note) lines.push(shown.note, '');
  lines.push(...(shown.text.trim() ? fencedBlock(shown.text.trimEnd(), 'diff') : ['(The diff is empty: nothing changed.)']));
  lines.push('', '## Your answer', '', ANSWER_FORMAT);
  return lines.join('\n');
}

/**
 * The reviewer's answer from its final text: the last fenced JSON block that is a valid answer, else
 * the last bare JSON object that is one. Never throws.
 */
export function parseReviewAnswer(text: string): ReviewParse {
  let firstProblem = '';
  for (const candidate of [...fencedBlocks(text).reverse(), ...bareJsonObjects(text)]) {
    const value = parseLenientJson(candidate);
    if (value === undefined) continue;
    const parsed = reviewAnswerSchema.safeParse(value);
    if (parsed.success) {
      const { passed, reasoning, issues } = parsed.data;
      return { ok: true, review: { passed, reasoning: reasoning ?? '', issues: issues ?? [] } };
    }
    firstProblem ||= `the last JSON object is not a review answer (${describeIssue(parsed.error.issues[0])})`;
  }
  return { ok: false, reason: firstProblem || 'no JSON object in the answer' };
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'invalid';
  return `${issue.path.length > 0 ? issue.path.join('.') : 'object'}: ${issue.message}`;
}

/** Below this many characters, part of a file's diff is not worth showing. */
const MIN_PARTIAL_FILE = 200;

const CUT_MARKER = "\n… (the rest of this file's diff is cut)\n";

/** How many omitted files the truncation note names before it only counts them. */
const OMITTED_FILES_NAMED = 50;

/**
 * The diff cut to at most `maxChars`: whole files while they fit, then the start of the next one up to
 * a line boundary; the files left out are named in `note`. Never splits a character.
 */
export function truncateDiff(diff: string, maxChars: number): { text: string; note: string | null } {
  if (diff.length <= maxChars) return { text: diff, note: null };
  const files = splitByFile(diff);
  let text = '';
  let index = 0;
  while (index < files.length && text.length + files[index]!.length <= maxChars) text += files[index++];
  let partial: string | null = null;
  if (index < files.length) {
    const head = headByLines(files[index]!, maxChars - text.length - CUT_MARKER.length);
    if (head) {
      text += `${head}${CUT_MARKER}`;
      partial = fileName(files[index]!);
      index++;
    }
  }
  const omitted = files.slice(index).map(fileName);
  const notes = [`The diff is ${diff.length} characters; ${text.length} of them are shown.`];
  if (partial !== null) notes.push(`The diff of ${partial} is cut short.`);
  if (omitted.length > 0) {
    const named = omitted.slice(0, OMITTED_FILES_NAMED).join(', ');
    const more = omitted.length > OMITTED_FILES_NAMED ? ` and ${omitted.length - OMITTED_FILES_NAMED} more` : '';
    notes.push(`Not shown: ${named}${more}.`);
  }
  notes.push('Read what is not shown in the working directory if you can.');
  return { text, note: notes.join(' ') };
}

/** A git diff split before each `diff --git` header (anything before the first stays with it). */
function splitByFile(diff: string): string[] {
  const starts = [...diff.matchAll(/^diff --git /gm)].map((match) => match.index).filter((start) => start > 0);
  const bounds = [0, ...starts, diff.length];
  return bounds.slice(0, -1).map((start, i) => diff.slice(start, bounds[i + 1]));
}

/** `diff --git a/x b/x` → `a/x b/x` (as git wrote it: names with spaces stay readable). */
function fileName(section: string): string {
  const header = /^diff --git (.*)$/m.exec(section);
  return header ? header[1]! : '(preamble)';
}

/**
 * The start of `text` within `budget` characters, cut at a line end — unless that would waste more
 * than half the budget on one enormous line (minified code), which is then cut itself, though never
 * between the halves of a surrogate pair. Too small a budget shows nothing rather than a fragment.
 */
function headByLines(text: string, budget: number): string {
  if (budget < MIN_PARTIAL_FILE) return '';
  const slice = text.slice(0, budget);
  const lastNewline = slice.lastIndexOf('\n');
  if (lastNewline >= budget / 2) return slice.slice(0, lastNewline);
  return /[\uD800-\uDBFF]$/.test(slice) ? slice.slice(0, -1) : slice;
}
