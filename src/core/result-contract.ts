// The result contract: every prompt asks the agent to end with a fenced JSON block saying whether it
// finished. Orch reads that block and nothing else — free text is never guessed at — so a run
// without a valid block simply has no structured result. The block is checked in result-block.ts, so
// that what only quotes the contract (a task's brief, a prompt) does not load zod.

export const RESULT_STATUSES = ['done', 'blocked', 'needs_review'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

export interface AgentResult {
  status: ResultStatus;
  summary: string;
  /** What is left to do, in the agent's words ('' when nothing). */
  remaining: string;
  followUps: string[];
}

export type ResultBlockParse = { ok: true; result: AgentResult } | { ok: false; reason: string };

export const RESULT_CONTRACT_PROMPT = `When you are finished, end your final message with exactly one fenced JSON block in this form:

\`\`\`json
{
  "status": "done",
  "summary": "One or two sentences on what you changed and why.",
  "remaining": "What is still left to do, or an empty string.",
  "follow_ups": ["A separate task worth doing later, one per entry."]
}
\`\`\`

"status" is one of:
- "done": the task is complete and your changes are ready to be checked and merged.
- "blocked": you cannot continue without something outside your control; say what in "remaining".
- "needs_review": you finished, but a person should look before it is merged; say why in "summary".

The block must be valid JSON and the last fenced block of your message.`;

/**
 * Bodies of the fenced blocks that may hold JSON: ```json, ```jsonc, ```json5 or an unlabelled fence.
 * A block the agent left unclosed at the very end still counts.
 */
export function fencedBlocks(text: string): string[] {
  const blocks: string[] = [];
  const lines = text.split(/\r?\n/);
  let body: string[] | null = null;
  let fence = '';
  let wanted = false;
  for (const line of lines) {
    if (body === null) {
      const open = /^\s*(`{3,}|~{3,})\s*([\w-]*)\s*$/.exec(line);
      if (open) {
        fence = open[1]!;
        wanted = /^(json5?|jsonc|)$/i.test(open[2]!);
        body = [];
      }
      continue;
    }
    const trimmed = line.trim();
    if (trimmed.startsWith(fence) && /^(`{3,}|~{3,})$/.test(trimmed) && trimmed[0] === fence[0]) {
      if (wanted) blocks.push(body.join('\n'));
      body = null;
    } else {
      body.push(line);
    }
  }
  if (body !== null && wanted) blocks.push(body.join('\n'));
  return blocks;
}

/** JSON.parse after removing comments and trailing commas (outside strings); undefined if it fails. */
export function parseLenientJson(source: string): unknown {
  try {
    return JSON.parse(source);
  } catch {
    try {
      return JSON.parse(stripCommentsAndTrailingCommas(source));
    } catch {
      return undefined;
    }
  }
}

/** Only the end of a very long answer is searched: the answer comes last. */
const SCANNED_CHARS = 1_000_000;

/**
 * Every balanced `{…}` span in the text (quotes inside a span are honoured as JSON strings), the one
 * ending last first; nested spans follow the span around them, so an answer wrapped in something
 * else is still found. For answers given as bare JSON rather than in a fenced block.
 */
export function bareJsonObjects(text: string): string[] {
  const scanned = text.slice(-SCANNED_CHARS);
  const spans: { start: number; end: number }[] = [];
  const open: number[] = [];
  for (let i = 0; i < scanned.length; i++) {
    const char = scanned[i];
    if (char === '"' && open.length > 0) i = endOfString(scanned, i) - 1;
    else if (char === '{') open.push(i);
    else if (char === '}' && open.length > 0) spans.push({ start: open.pop()!, end: i + 1 });
  }
  return spans.sort((a, b) => b.end - a.end).map(({ start, end }) => scanned.slice(start, end));
}

function stripCommentsAndTrailingCommas(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const char = source[i]!;
    if (char === '"') {
      const end = endOfString(source, i);
      out += source.slice(i, end);
      i = end;
    } else if (char === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (char === '/' && source[i + 1] === '*') {
      const close = source.indexOf('*/', i + 2);
      i = close === -1 ? source.length : close + 2;
    } else if (char === ',' && ['}', ']'].includes(nextSignificantChar(source, i + 1))) {
      i++;
    } else {
      out += char;
      i++;
    }
  }
  return out;
}

/** Index just past the string literal that starts at `start` (a `"`). */
function endOfString(source: string, start: number): number {
  let i = start + 1;
  while (i < source.length) {
    if (source[i] === '\\') i += 2;
    else if (source[i] === '"') return i + 1;
    else i++;
  }
  return source.length;
}

/** The first character at or after `from` that is neither whitespace nor inside a comment ('' at the end). */
function nextSignificantChar(source: string, from: number): string {
  let i = from;
  while (i < source.length) {
    if (/\s/.test(source[i]!)) i++;
    else if (source.startsWith('//', i)) {
      const newline = source.indexOf('\n', i);
      i = newline === -1 ? source.length : newline + 1;
    } else if (source.startsWith('/*', i)) {
      const close = source.indexOf('*/', i + 2);
      i = close === -1 ? source.length : close + 2;
    } else return source[i]!;
  }
  return '';
}
