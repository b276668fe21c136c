import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildRouterPrompt,
  checkRouterAnswer,
  decideRoute,
  modelFor,
  needsRouter,
  pickWeighted,
  routingLabels,
  routingWeights,
  type RoutingInput,
} from '../../src/core/routing.js';
import { parseRouterAnswer } from '../../src/core/router-answer.js';

const AGENTS = ['claude', 'codex', 'gemini', 'opencode'];

describe('routing labels', () => {
  it('reads agent:, complexity: and model: labels, case-insensitively, and ignores the rest', () => {
    expect(routingLabels(['bug', 'Agent: Codex', 'complexity:COMPLEX', 'model:gpt-5-Codex', 'area:api'])).toEqual({
      agent: 'codex',
      complexity: 'complex',
      model: 'gpt-5-Codex',
      problems: [],
    });
    expect(routingLabels([])).toEqual({ agent: null, complexity: null, model: null, problems: [] });
  });

  it('names a complexity that is not one, and the second of two different agents', () => {
    const labels = routingLabels(['complexity:huge', 'agent:claude', 'agent:codex', 'agent:claude']);
    expect(labels).toMatchObject({ agent: 'claude', complexity: null });
    expect(labels.problems).toEqual([
      'label complexity:huge is not a complexity (use simple, medium, complex)',
      'labels name two values for agent (claude, codex): claude is used',
    ]);
  });
});

describe('weighted round robin', () => {
  const candidatesArb = fc.subarray(AGENTS, { minLength: 1 });
  const weightsArb = fc.dictionary(fc.constantFrom(...AGENTS), fc.integer({ min: 0, max: 5 }));
  const tallyArb = fc.dictionary(fc.constantFrom(...AGENTS), fc.nat(50));

  it('never picks an agent that is not a candidate, and picks one whenever there is a candidate', () => {
    fc.assert(
      fc.property(fc.subarray(AGENTS), weightsArb, tallyArb, (candidates, weights, tally) => {
        const pick = pickWeighted(candidates, weights, tally);
        if (candidates.length === 0) expect(pick).toBeNull();
        else expect(candidates).toContain(pick!.agent);
      }),
    );
  });

  it('is deterministic: the same inputs give the same pick', () => {
    fc.assert(
      fc.property(candidatesArb, weightsArb, tallyArb, (candidates, weights, tally) => {
        expect(pickWeighted(candidates, { ...weights }, { ...tally })).toEqual(pickWeighted(candidates, weights, tally));
      }),
    );
  });

  it('gives each agent the share its weight asks for: after every pick, off by fewer picks than there are agents', () => {
    fc.assert(
      fc.property(candidatesArb, fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 1, max: 300 }), (candidates, raw, picks) => {
        const weights = Object.fromEntries(AGENTS.map((a, i) => [a, raw[i]!]));
        const total = candidates.reduce((sum, a) => sum + weights[a]!, 0);
        const tally: Record<string, number> = {};
        for (let made = 1; made <= picks; made++) {
          const { agent } = pickWeighted(candidates, weights, tally)!;
          tally[agent] = (tally[agent] ?? 0) + 1;
          for (const a of candidates) expect(Math.abs((tally[a] ?? 0) - (made * weights[a]!) / total)).toBeLessThan(candidates.length);
        }
        // Over a whole number of rounds (picks a multiple of the total weight), the shares are exact.
        if (picks % total === 0) for (const a of candidates) expect(tally[a] ?? 0).toBe((picks / total) * weights[a]!);
      }),
    );
  });

  it('catches up an agent that fell behind, and goes to the earlier candidate on a tie', () => {
    expect(pickWeighted(['claude', 'codex'], {}, {})!.agent).toBe('claude');
    expect(pickWeighted(['claude', 'codex'], {}, { claude: 1 })!.agent).toBe('codex');
    expect(pickWeighted(['claude', 'codex'], { claude: 3 }, { claude: 2, codex: 1 })!.agent).toBe('claude');
    expect(pickWeighted(['claude', 'codex'], {}, { claude: 5, codex: 1 })).toMatchObject({
      agent: 'codex',
      reason: 'round robin: codex is furthest behind its share (tasks/weight: claude 5/w1, codex 1/w1)',
    });
  });

  it('uses an agent of weight 0 only when no weighted agent can work', () => {
    expect(pickWeighted(['claude', 'codex'], { codex: 0 }, { claude: 100 })!.agent).toBe('claude');
    expect(pickWeighted(['codex', 'gemini'], { codex: 0, gemini: 0 }, {})).toMatchObject({ agent: 'codex', reason: expect.stringMatching(/no agent with a weight above 0/) });
  });

  it('weighs by the configured weight times the success rate, unknown agents at 50 %', () => {
    expect(routingWeights(['claude', 'codex'], { codex: 2 })).toEqual({ claude: 1, codex: 2 });
    expect(routingWeights(['claude', 'codex', 'gemini'], { codex: 2 }, new Map([['claude', 0.9], ['codex', 0.25]]))).toEqual({ claude: 0.9, codex: 0.5, gemini: 0.5 });
  });
});

describe('the router answer', () => {
  const answer = { agent: 'codex', complexity: 'complex', reason: 'Large refactor.', profile: { role: 'refactorer', skills: ['typescript'], tools: ['grep'], constraints: ['no new deps'] } };

  it('is read from the last fenced block, or a bare object, tolerating comments and trailing commas', () => {
    const fenced = `Thinking...\n\`\`\`json\n${JSON.stringify({ ...answer, agent: 'claude' })}\n\`\`\`\nActually:\n\`\`\`json\n{ "agent": "Codex", // best\n "complexity": "complex", "reason": "Large refactor.", "profile": ${JSON.stringify(answer.profile)}, }\n\`\`\``;
    expect(parseRouterAnswer(fenced)).toEqual({ ok: true, answer });
    expect(parseRouterAnswer(`I pick ${JSON.stringify({ agent: 'claude', complexity: 'simple', reason: 'tiny' })} as asked.`)).toEqual({
      ok: true,
      answer: { agent: 'claude', complexity: 'simple', reason: 'tiny', profile: null },
    });
  });

  it('fills a partial profile and refuses a missing reason, an unknown complexity or no JSON at all', () => {
    expect(parseRouterAnswer(JSON.stringify({ agent: 'claude', complexity: 'medium', reason: 'ok', profile: { role: 'tester' } }))).toMatchObject({
      ok: true,
      answer: { profile: { role: 'tester', skills: [], tools: [], constraints: [] } },
    });
    expect(parseRouterAnswer(JSON.stringify({ agent: 'claude', complexity: 'medium' }))).toEqual({ ok: false, reason: expect.stringMatching(/^the router's JSON is not a routing answer \(reason: /) });
    expect(parseRouterAnswer(JSON.stringify({ agent: 'claude', complexity: 'epic', reason: 'x' }))).toEqual({ ok: false, reason: expect.stringContaining('complexity') });
    expect(parseRouterAnswer('I would use claude.')).toEqual({ ok: false, reason: "no JSON object in the router's answer" });
    expect(parseRouterAnswer(null)).toEqual({ ok: false, reason: 'the router gave no answer' });
  });

  it('is refused when it names an agent the project may not use or one that cannot work now', () => {
    const choices = { allowed: ['claude', 'codex'], available: ['claude'] };
    expect(checkRouterAnswer({ agent: 'claude', complexity: 'simple', reason: 'x', profile: null }, choices)).toEqual({ ok: true });
    expect(checkRouterAnswer({ agent: 'gemini', complexity: 'simple', reason: 'x', profile: null }, choices)).toEqual({ ok: false, reason: 'the router chose gemini, which this project may not use (claude, codex)' });
    expect(checkRouterAnswer({ agent: 'codex', complexity: 'simple', reason: 'x', profile: null }, choices)).toEqual({ ok: false, reason: 'the router chose codex, which cannot work now (cooling down or switched off)' });
  });

  it('is asked for with the task as data, the agents to choose from and why the last answer was refused', () => {
    const prompt = buildRouterPrompt({ id: 7, project: 'app', title: 'Fix login', body: 'The form ```breaks```', role: 'fix', labels: ['auth'] }, [
      { name: 'claude', kind: 'claude', model: 'opus' },
      { name: 'codex', kind: 'codex', model: null },
    ], 'the router chose gemini, which this project may not use (claude, codex)');
    expect(prompt).toContain('# Route task #7 of project app');
    expect(prompt).toContain('````text\nFix login\n\nThe form ```breaks```\n````');
    expect(prompt).toContain('- claude: the claude CLI, model opus');
    expect(prompt).toContain('"agent" must be one of: claude, codex.');
    expect(prompt).toContain('Your previous answer was not accepted: the router chose gemini');
  });
});

describe('the routing decision', () => {
  const base = (extra: Partial<RoutingInput> = {}, task: Partial<RoutingInput['task']> = {}): RoutingInput => ({
    task: { labels: [], agent: null, model: null, complexity: null, ...task },
    choices: { allowed: ['claude', 'codex'], available: ['claude', 'codex'] },
    keepPreset: true,
    weights: {},
    tally: { claude: 3, codex: 1 },
    modelMap: { complex: { codex: 'gpt-5-codex-high' }, simple: { claude: 'haiku' } },
    agentModels: { claude: 'sonnet', codex: null },
    ...extra,
  });
  const routerSaid = { ok: true as const, answer: { agent: 'claude', complexity: 'simple' as const, reason: 'A one-liner.', profile: { role: 'fixer', skills: [], tools: [], constraints: [] } } };

  it('takes labels first, ahead of an earlier choice and the router', () => {
    const input = base({}, { labels: ['agent:codex', 'complexity:complex'], agent: 'claude' });
    expect(needsRouter(input)).toBe(false);
    expect(decideRoute(input, routerSaid)).toEqual({
      agent: 'codex', model: 'gpt-5-codex-high', complexity: 'complex', by: 'label', reason: 'label agent:codex; complexity from label complexity:complex', profile: null,
    });
    expect(decideRoute(base({}, { labels: ['agent:codex', 'model:o3'] }))).toMatchObject({ agent: 'codex', model: 'o3', by: 'label' });
  });

  it('keeps an agent chosen before when routing by itself, not when a person routes again', () => {
    const task = { agent: 'codex', model: 'kept-model', complexity: 'medium' as const };
    expect(decideRoute(base({}, task))).toEqual({ agent: 'codex', model: 'kept-model', complexity: 'medium', by: 'preset', reason: 'kept codex, chosen for this task before', profile: null });
    expect(needsRouter(base({ keepPreset: false }, task))).toBe(true);
    expect(decideRoute(base({ keepPreset: false }, task), routerSaid)).toMatchObject({ agent: 'claude', by: 'router', complexity: 'simple', model: 'haiku' });
  });

  it('takes the router\'s verdict, with its complexity mapped to a model and its profile', () => {
    expect(decideRoute(base(), routerSaid)).toEqual({ agent: 'claude', model: 'haiku', complexity: 'simple', by: 'router', reason: 'A one-liner.', profile: routerSaid.answer.profile });
    // A complexity label wins over the router's estimate.
    expect(decideRoute(base({}, { labels: ['complexity:complex'] }), routerSaid)).toMatchObject({ complexity: 'complex', model: 'sonnet', reason: 'A one-liner.; complexity from label complexity:complex' });
  });

  it('falls back to the round robin when the router failed, and says why', () => {
    expect(decideRoute(base(), { ok: false, reason: 'claude: its run timed out after 5s (1 attempt)' })).toEqual({
      agent: 'codex',
      model: null,
      complexity: null,
      by: 'fallback',
      reason: 'the router failed (claude: its run timed out after 5s (1 attempt)), so round robin: codex is furthest behind its share (tasks/weight: claude 3/w1, codex 1/w1)',
      profile: null,
    });
    expect(decideRoute(base())).toMatchObject({ agent: 'codex', by: 'round_robin' });
  });

  it('ignores a label naming an agent the project may not use, and says so', () => {
    expect(decideRoute(base({}, { labels: ['agent:gemini'] }))).toMatchObject({
      agent: 'codex',
      by: 'round_robin',
      reason: expect.stringMatching(/; label agent:gemini names an agent this project may not use \(claude, codex\)$/),
    });
  });

  it('credits a given agent to the label or earlier choice it agrees with, else to whoever gave it', () => {
    const given = { agent: 'codex', by: 'round_robin' as const, reason: 'round robin: codex' };
    expect(decideRoute(base({ given }, { labels: ['agent:codex'] }))).toMatchObject({ agent: 'codex', by: 'label' });
    expect(decideRoute(base({ given }, { labels: ['agent:claude'] }))).toMatchObject({ agent: 'codex', by: 'round_robin', reason: 'round robin: codex' });
    expect(decideRoute(base({ given: { agent: 'claude', by: 'preset', reason: 'agent claude given to this run' } }, { agent: 'codex' }))).toMatchObject({ agent: 'claude', by: 'preset', model: 'sonnet' });
  });

  it('keeps an earlier complexity estimate until a label or the router gives another', () => {
    expect(decideRoute(base({}, { complexity: 'complex' }))).toMatchObject({ agent: 'codex', complexity: 'complex', model: 'gpt-5-codex-high' });
  });

  it('chooses nobody when no agent can work', () => {
    expect(decideRoute(base({ choices: { allowed: ['claude'], available: [] } }))).toBeNull();
  });

  it('picks the model: a label, else the model map, else the agent\'s own', () => {
    const map = { complex: { codex: 'big' } };
    expect(modelFor('codex', 'complex', map, 'small', 'label-model')).toBe('label-model');
    expect(modelFor('codex', 'complex', map, 'small')).toBe('big');
    expect(modelFor('codex', 'simple', map, 'small')).toBe('small');
    expect(modelFor('codex', null, map, null)).toBeNull();
  });
});
