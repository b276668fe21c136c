// The router's answer, read from its final text and checked with zod. Apart from routing.ts, whose
// weights and labels every command that lists or routes tasks loads, so that those do not load zod.

import { z } from 'zod';
import { bareJsonObjects, fencedBlocks, parseLenientJson } from './result-contract.js';
import type { RouterAnswer } from './routing.js';
import { COMPLEXITIES } from './types.js';

const textList = z.array(z.string());

/** What the router must answer: an agent, a complexity and a reason; the profile may be partial. */
export const routerAnswerSchema = z.object({
  agent: z.string().trim().min(1),
  complexity: z.enum(COMPLEXITIES),
  reason: z.string().trim().min(1),
  profile: z
    .object({ role: z.string().nullish(), skills: textList.nullish(), tools: textList.nullish(), constraints: textList.nullish() })
    .nullish(),
});

export type RouterAnswerParse = { ok: true; answer: RouterAnswer } | { ok: false; reason: string };

/**
 * The router's answer from its final text: the last fenced JSON block that is a valid answer, else the
 * last bare JSON object that is one. Tolerates comments and trailing commas; never throws.
 */
export function parseRouterAnswer(text: string | null): RouterAnswerParse {
  if (text === null || text.trim() === '') return { ok: false, reason: 'the router gave no answer' };
  let firstProblem = '';
  for (const candidate of [...fencedBlocks(text).reverse(), ...bareJsonObjects(text)]) {
    const value = parseLenientJson(candidate);
    if (value === undefined) continue;
    const parsed = routerAnswerSchema.safeParse(value);
    if (parsed.success) {
      const { agent, complexity, reason, profile } = parsed.data;
      return {
        ok: true,
        answer: {
          agent: agent.toLowerCase(),
          complexity,
          reason,
          profile: profile ? { role: profile.role ?? '', skills: profile.skills ?? [], tools: profile.tools ?? [], constraints: profile.constraints ?? [] } : null,
        },
      };
    }
    const issue = parsed.error.issues[0];
    firstProblem ||= `the router's JSON is not a routing answer (${issue && issue.path.length > 0 ? issue.path.join('.') : 'object'}: ${issue?.message ?? 'invalid'})`;
  }
  return { ok: false, reason: firstProblem || 'no JSON object in the router\'s answer' };
}
