// Reading the result contract's block (result-contract.ts) from an agent's final message, checked with zod.

import { z } from 'zod';
import { RESULT_STATUSES, fencedBlocks, parseLenientJson, type ResultBlockParse } from './result-contract.js';

const textList = z.array(z.string());

/** Keys as the prompt asks for them; unknown keys are ignored, missing optional ones default. */
const resultBlockSchema = z.object({
  status: z.enum(RESULT_STATUSES),
  summary: z.string(),
  remaining: z.union([z.string(), textList]).nullish(),
  follow_ups: textList.nullish(),
});

/**
 * The agent's result from its final message: the last fenced block (```json or a bare ```) that
 * parses and carries a valid status. Tolerates comments and trailing commas. Never throws.
 */
export function parseResultBlock(text: string): ResultBlockParse {
  const blocks = fencedBlocks(text);
  if (blocks.length === 0) return { ok: false, reason: 'no fenced JSON block in the final message' };
  let lastProblem = '';
  for (const block of blocks.reverse()) {
    const value = parseLenientJson(block);
    if (value === undefined) {
      lastProblem ||= 'the last fenced block is not valid JSON';
      continue;
    }
    const parsed = resultBlockSchema.safeParse(value);
    if (!parsed.success) {
      lastProblem ||= `the last JSON block is not a result: ${describeIssue(parsed.error.issues[0])}`;
      continue;
    }
    const { status, summary, remaining, follow_ups } = parsed.data;
    const remainingText = Array.isArray(remaining) ? remaining.join('\n') : (remaining ?? '');
    return { ok: true, result: { status, summary, remaining: remainingText, followUps: follow_ups ?? [] } };
  }
  return { ok: false, reason: lastProblem };
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'invalid';
  const where = issue.path.length > 0 ? issue.path.join('.') : 'block';
  return `${where}: ${issue.message}`;
}
