// The judge's verdict on a branch: one named check per question (do the tests pass, did lint get
// worse, did the change keep to its scope, what did the reviewer say), the overall answer, and the
// two ways it is read back — `verdict.md` for people, a short failure text for the next attempt.

export const CHECK_NAMES = ['tests', 'lint', 'scope', 'review'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface Check {
  name: CheckName;
  passed: boolean;
  /** Not run: nothing configured, or not worth running. A skipped check is `passed` and counts for nothing. */
  skipped?: boolean;
  /** One line: what happened. */
  detail: string;
  /** The end of what the check printed (or the reviewer's words), when worth showing. */
  output?: string;
  durationMs?: number;
}

export interface Verdict {
  /** Every check that ran passed. */
  passed: boolean;
  checks: Check[];
  /** One line for logs, events and the CLI. */
  summary: string;
}

/** What verdict.md says about the branch besides the checks. */
export interface VerdictContext {
  taskId: number;
  title: string;
  branch: string;
  /** What the branch was judged against (the default branch's name or a commit). */
  base: string;
  /** `git diff --stat` of the change; '' when unknown. */
  diffStat: string;
}

/** The verdict of a set of checks: passed when every check that ran passed. */
export function verdictOf(checks: readonly Check[]): Verdict {
  const failed = checks.filter((check) => !check.skipped && !check.passed);
  const ran = checks.filter((check) => !check.skipped && check.passed);
  const skipped = checks.filter((check) => check.skipped);
  let summary: string;
  if (failed.length > 0) {
    summary = `failed: ${failed.map((check) => `${check.name} (${oneLine(check.detail)})`).join('; ')}`;
  } else {
    summary = ran.length > 0 ? `passed: ${ran.map((check) => check.name).join(', ')}` : 'passed: no checks ran';
    if (skipped.length > 0) summary += `; skipped: ${skipped.map((check) => check.name).join(', ')}`;
  }
  return { passed: failed.length === 0, checks: [...checks], summary };
}

/** `runs/<run>/verdict.md`: the verdict, every check, the output of those that printed any, the diff stat. */
export function renderVerdictMarkdown(verdict: Verdict, context: VerdictContext): string {
  const lines = [
    `# Task #${context.taskId}: ${oneLine(context.title)}`,
    '',
    `**Verdict: ${verdict.passed ? 'passed' : 'failed'}** — branch ${inlineCode(context.branch)} judged against ${inlineCode(context.base)}.`,
    '',
    oneLine(verdict.summary),
    '',
    '## Checks',
    '',
    '| check | result | detail | time |',
    '| --- | --- | --- | --- |',
    ...verdict.checks.map(
      (check) =>
        `| ${check.name} | ${checkResult(check)} | ${tableCell(check.detail)} | ${check.durationMs === undefined ? '' : formatDuration(check.durationMs)} |`,
    ),
  ];
  for (const check of verdict.checks) {
    if (!check.output?.trim()) continue;
    lines.push('', `## ${check.name} (${checkResult(check)})`, '', ...fencedBlock(outputTail(check.output)));
  }
  if (context.diffStat.trim()) lines.push('', '## Changes', '', ...fencedBlock(context.diffStat.trimEnd()));
  return `${lines.join('\n')}\n`;
}

/**
 * What failed, briefly, for the next attempt's prompt: one bullet per failed check with the end of its
 * output. '' when the verdict passed.
 */
export function failureForPrompt(verdict: Verdict): string {
  const parts: string[] = [];
  for (const check of verdict.checks) {
    if (check.skipped || check.passed) continue;
    parts.push(`- ${check.name} failed: ${oneLine(check.detail)}`);
    if (check.output?.trim()) parts.push(...fencedBlock(outputTail(check.output, PROMPT_TAIL)).map((line) => `  ${line}`));
  }
  return parts.join('\n');
}

const MARKDOWN_TAIL = { maxLines: 80, maxChars: 8000 };
const PROMPT_TAIL = { maxLines: 20, maxChars: 1500 };

/**
 * The last lines of a command's output, made readable: terminal colour codes removed, progress bars
 * (text rewritten after a carriage return) reduced to what was shown last, at most `maxLines` lines
 * and `maxChars` characters, with a note when something was cut.
 */
export function outputTail(text: string, limits: { maxLines: number; maxChars: number } = MARKDOWN_TAIL): string {
  const lines = stripTerminalCodes(text)
    .split('\n')
    .map((line) => line.slice(line.lastIndexOf('\r', line.length - 2) + 1).replace(/\r$/, '').trimEnd());
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let kept = lines.slice(-limits.maxLines);
  let cut = kept.length < lines.length;
  while (kept.length > 1 && kept.join('\n').length > limits.maxChars) {
    kept = kept.slice(1);
    cut = true;
  }
  let tail = kept.join('\n');
  if (tail.length > limits.maxChars) {
    tail = tail.slice(-limits.maxChars);
    cut = true;
  }
  return cut ? `[… earlier output cut]\n${tail}` : tail;
}

/** A fenced code block that no backtick run inside `content` can close early. */
export function fencedBlock(content: string, info = ''): string[] {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(content) + 1));
  return [`${fence}${info}`, ...content.split('\n'), fence];
}

/** Inline code that survives backticks in the text (CommonMark: a longer delimiter, padded). */
function inlineCode(text: string): string {
  const value = oneLine(text);
  const delimiter = '`'.repeat(longestBacktickRun(value) + 1);
  const padding = value.startsWith('`') || value.endsWith('`') ? ' ' : '';
  return `${delimiter}${padding}${value}${padding}${delimiter}`;
}

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of text.matchAll(/`+/g)) longest = Math.max(longest, run[0].length);
  return longest;
}

function checkResult(check: Check): string {
  if (check.skipped) return 'skipped';
  return check.passed ? 'passed' : '**FAILED**';
}

function tableCell(text: string): string {
  return oneLine(text).replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}

function oneLine(text: string): string {
  return stripTerminalCodes(text).replace(/\s+/g, ' ').trim();
}

// CSI sequences (colours, cursor moves) and OSC sequences (titles, hyperlinks), then other control
// characters except tab, newline and carriage return: none of them belong in a Markdown file.
// eslint-disable-next-line no-control-regex
const TERMINAL_CODES = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

function stripTerminalCodes(text: string): string {
  return text.replace(TERMINAL_CODES, '');
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}
