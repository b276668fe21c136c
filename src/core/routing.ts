// Routing: which agent a task goes to, with which model, and how hard it is. Labels a person put on
// the task decide first; else the answer of an LLM router, when the project has one and its answer
// holds up; else a weighted round robin over the agents that can work now. Everything here is pure:
// the engine gathers cooldowns, tallies and the router's text, and writes the decision down.

import { PRIOR_SUCCESS_RATE } from './scoreboard.js';
import { COMPLEXITIES, type Complexity, type Task } from './types.js';
import { fencedBlock } from './verdict.js';

/**
 * Who made a routing decision: a label on the task, the LLM router, the round robin (no router
 * configured), the round robin because the router failed, or an agent chosen before routing (set on
 * the task earlier, by a job, or given to one run by a person).
 */
export const ROUTED_BY = ['label', 'router', 'round_robin', 'fallback', 'preset'] as const;
export type RoutedBy = (typeof ROUTED_BY)[number];

/** How the router would brief the agent: kept with the decision for people to read. */
export interface AgentProfile {
  role: string;
  skills: string[];
  tools: string[];
  constraints: string[];
}

export interface RoutingDecision {
  agent: string;
  /** null: the CLI's own default model. */
  model: string | null;
  complexity: Complexity | null;
  by: RoutedBy;
  reason: string;
  profile: AgentProfile | null;
}

// ---------------------------------------------------------------- labels

export interface RoutingLabels {
  agent: string | null;
  complexity: Complexity | null;
  model: string | null;
  /** Labels that looked like routing labels but could not be used, in a person's words. */
  problems: string[];
}

const ROUTING_LABEL = /^(agent|complexity|model)\s*:\s*(\S.*)$/i;

/** `agent:<name>`, `complexity:<simple|medium|complex>` and `model:<name>` among a task's labels. */
export function routingLabels(labels: readonly string[]): RoutingLabels {
  const found: RoutingLabels = { agent: null, complexity: null, model: null, problems: [] };
  for (const label of labels) {
    const match = ROUTING_LABEL.exec(label.trim());
    if (!match) continue;
    const key = match[1]!.toLowerCase() as 'agent' | 'complexity' | 'model';
    const value = key === 'model' ? match[2]!.trim() : match[2]!.trim().toLowerCase();
    if (key === 'complexity' && !(COMPLEXITIES as readonly string[]).includes(value)) {
      found.problems.push(`label ${label} is not a complexity (use ${COMPLEXITIES.join(', ')})`);
      continue;
    }
    const current = found[key];
    if (current !== null) {
      if (current !== value) found.problems.push(`labels name two values for ${key} (${current}, ${value}): ${current} is used`);
      continue;
    }
    if (key === 'complexity') found.complexity = value as Complexity;
    else found[key] = value;
  }
  return found;
}

// ---------------------------------------------------------------- weighted round robin

/** An agent's weight when the config names none. */
export const DEFAULT_WEIGHT = 1;

export interface WeightedPick {
  agent: string;
  reason: string;
}

const weightOf = (weights: Readonly<Record<string, number>>, agent: string) => {
  const weight = Object.hasOwn(weights, agent) ? weights[agent]! : DEFAULT_WEIGHT;
  return Number.isFinite(weight) && weight > 0 ? weight : 0;
};

const round = (value: number) => String(Math.round(value * 100) / 100);

/**
 * The next agent of a weighted round robin: among `candidates` (the agents that can work now, in the
 * project's order), the one furthest behind its share — the smallest `(tally + ½) / weight`, the
 * Sainte-Laguë divisor, so over many picks each agent's share follows its weight. Ties go to the
 * earlier candidate. An agent of weight 0 is picked only when no weighted agent is a candidate: a
 * fallback. Deterministic; null when there is no candidate.
 */
export function pickWeighted(
  candidates: readonly string[],
  weights: Readonly<Record<string, number>>,
  tally: Readonly<Record<string, number>>,
): WeightedPick | null {
  if (candidates.length === 0) return null;
  let best: string | null = null;
  let bestScore = Infinity;
  for (const agent of candidates) {
    const weight = weightOf(weights, agent);
    if (weight === 0) continue;
    const score = ((Object.hasOwn(tally, agent) ? tally[agent]! : 0) + 0.5) / weight;
    if (score < bestScore) {
      best = agent;
      bestScore = score;
    }
  }
  if (best === null) {
    const first = candidates[0]!;
    return { agent: first, reason: `round robin: no agent with a weight above 0 can work now, so ${first}, the first of ${candidates.join(', ')}` };
  }
  const shares = candidates
    .filter((agent) => weightOf(weights, agent) > 0)
    .map((agent) => `${agent} ${Object.hasOwn(tally, agent) ? tally[agent] : 0}/w${round(weightOf(weights, agent))}`);
  return { agent: best, reason: `round robin: ${best} is furthest behind its share (tasks/weight: ${shares.join(', ')})` };
}

/**
 * Round-robin weights: the configured weight (default 1) of each agent, times its smoothed success
 * rate when the scoreboard is used (an agent without runs counts as 50 %) — so an agent whose runs keep
 * failing gets less work, never none.
 */
export function routingWeights(
  agents: readonly string[],
  configured: Readonly<Record<string, number>>,
  successRates: ReadonlyMap<string, number> | null = null,
): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const agent of agents) weights[agent] = weightOf(configured, agent) * (successRates ? (successRates.get(agent) ?? PRIOR_SUCCESS_RATE) : 1);
  return weights;
}

// ---------------------------------------------------------------- models

/** `model_map[complexity][agent]`, by complexity then agent name. */
export type ModelMap = Readonly<Partial<Record<Complexity, Readonly<Record<string, string>>>>>;

/** The model a routed task runs with: a `model:` label, else the model map's entry, else the agent's own. */
export function modelFor(agent: string, complexity: Complexity | null, modelMap: ModelMap, agentModel: string | null, labelModel: string | null = null): string | null {
  if (labelModel !== null) return labelModel;
  const mapped = complexity === null ? undefined : modelMap[complexity];
  if (mapped && Object.hasOwn(mapped, agent)) return mapped[agent]!;
  return agentModel;
}

// ---------------------------------------------------------------- the router's answer (read in router-answer.ts)

export interface RouterAnswer {
  agent: string;
  complexity: Complexity;
  reason: string;
  profile: AgentProfile | null;
}

/** The agents a router may name, and why any other it named is refused. */
export interface RouterChoices {
  /** The project's agents that are configured. */
  allowed: readonly string[];
  /** Of those, the ones that can work now (not cooling down, allowed to run at all). */
  available: readonly string[];
}

/** Refuses an answer naming an agent the project may not use or one that cannot work now. */
export function checkRouterAnswer(answer: RouterAnswer, choices: RouterChoices): { ok: true } | { ok: false; reason: string } {
  if (!choices.allowed.includes(answer.agent)) {
    return { ok: false, reason: `the router chose ${answer.agent}, which this project may not use (${choices.allowed.join(', ')})` };
  }
  if (!choices.available.includes(answer.agent)) {
    return { ok: false, reason: `the router chose ${answer.agent}, which cannot work now (cooling down or switched off)` };
  }
  return { ok: true };
}

export interface RouterPromptAgent {
  name: string;
  kind: string;
  model: string | null;
}

export type RouterPromptTask = Pick<Task, 'id' | 'project' | 'title' | 'body' | 'role' | 'labels'>;

const COMPLEXITY_MEANINGS: Record<Complexity, string> = {
  simple: 'a small, well-defined change in one place; little judgement needed',
  medium: 'a change across a few files, or one that needs some design or debugging',
  complex: 'a broad or subtle change: architecture, concurrency, security, many files, unclear requirements',
};

/**
 * The router's prompt: the task (as quoted data), the agents it may choose from, what the
 * complexities mean and the answer format. `refused` says why its previous answer was not taken.
 */
export function buildRouterPrompt(task: RouterPromptTask, agents: readonly RouterPromptAgent[], refused: string | null = null): string {
  const names = agents.map((a) => a.name);
  const lines = [
    `# Route task #${task.id} of project ${task.project}`,
    '',
    'You are the router of a team of AI coding agents. Choose the agent best suited to the task below and say how complex it is.',
    'Do not change any files and do not run commands: read, decide, answer.',
    '',
    '## The task, as written',
    '',
    ...fencedBlock(task.body.trim() ? `${task.title}\n\n${task.body.trim()}` : task.title, 'text'),
    '',
    `Role: ${task.role}.${task.labels.length ? ` Labels: ${task.labels.join(', ')}.` : ''}`,
    '',
    '## The agents you may choose from',
    '',
    ...agents.map((a) => `- ${a.name}: the ${a.kind} CLI${a.model ? `, model ${a.model}` : ''}`),
    '',
    '## Complexity',
    '',
    ...COMPLEXITIES.map((c) => `- ${c}: ${COMPLEXITY_MEANINGS[c]}`),
    '',
    '## Your answer',
    '',
    'End your final message with exactly one fenced JSON block in this form:',
    '',
    '```json',
    JSON.stringify(
      {
        agent: names[0] ?? 'agent-name',
        complexity: 'medium',
        reason: 'One or two sentences on why this agent suits this task.',
        profile: { role: 'The role the agent should take.', skills: ['A skill the task needs.'], tools: ['A tool it will use.'], constraints: ['Something it must not do.'] },
      },
      null,
      2,
    ),
    '```',
    '',
    `"agent" must be one of: ${names.join(', ')}. "complexity" is one of: ${COMPLEXITIES.join(', ')}.`,
  ];
  if (refused) lines.push('', `Your previous answer was not accepted: ${refused}. Answer again.`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- the decision

export interface RoutingInput {
  task: Pick<Task, 'labels' | 'agent' | 'model' | 'complexity'>;
  choices: RouterChoices;
  /** Keep an agent already set on the task (automatic routing); a person routing again does not. */
  keepPreset: boolean;
  /** An agent chosen outside routing for this run: the tick's round robin, or a person's `--agent`. */
  given?: { agent: string; by: RoutedBy; reason: string } | null;
  weights: Readonly<Record<string, number>>;
  /** Tasks each agent of the project was routed to so far: the round robin's memory. */
  tally: Readonly<Record<string, number>>;
  modelMap: ModelMap;
  /** Each agent's configured model. */
  agentModels: Readonly<Record<string, string | null>>;
}

/** What the LLM router said: an answer that passed the checks, or why it was not taken. */
export type RouterVerdict = { ok: true; answer: RouterAnswer } | { ok: false; reason: string };

/**
 * Whether the decision waits on the LLM router: no label, earlier choice or given agent settles the
 * agent. (The caller also checks that the project has a router.)
 */
export function needsRouter(input: Omit<RoutingInput, 'weights' | 'tally'>): boolean {
  return settledAgent(input, routingLabels(input.task.labels)) === null;
}

/**
 * The routing decision, in order: labels, then an agent already chosen (kept or given), then the
 * router's verdict when there is one, then the weighted round robin over the agents that can work
 * now (`fallback` when the router failed). Null when no agent can be chosen at all.
 */
export function decideRoute(input: RoutingInput, router: RouterVerdict | null = null): RoutingDecision | null {
  const labels = routingLabels(input.task.labels);
  const problems = [...labels.problems];
  if (labels.agent !== null && !input.choices.allowed.includes(labels.agent)) {
    problems.push(`label agent:${labels.agent} names an agent this project may not use (${input.choices.allowed.join(', ')})`);
  }
  const notes = (reason: string) => [reason, ...problems].join('; ');
  const settled = settledAgent(input, labels);
  // How hard the task is belongs to the task, not the agent: an earlier estimate stands until a label or the router says otherwise.
  const finish = (agent: string, by: RoutedBy, reason: string, estimate: Complexity | null, profile: AgentProfile | null): RoutingDecision => {
    const complexity = labels.complexity ?? estimate ?? input.task.complexity;
    const kept = by === 'preset' && agent === input.task.agent ? input.task.model : null;
    const model = labels.model ?? kept ?? modelFor(agent, complexity, input.modelMap, input.agentModels[agent] ?? null);
    const extras = [labels.complexity !== null ? `complexity from label complexity:${labels.complexity}` : null, labels.model !== null ? `model from label model:${labels.model}` : null];
    return { agent, model, complexity, by, reason: notes([reason, ...extras].filter(Boolean).join('; ')), profile };
  };
  if (settled !== null) return finish(settled.agent, settled.by, settled.reason, null, null);
  if (router?.ok) {
    const { answer } = router;
    return finish(answer.agent, 'router', answer.reason, answer.complexity, answer.profile);
  }
  const pick = pickWeighted(input.choices.available, input.weights, input.tally);
  if (pick === null) return null;
  const reason = router ? `the router failed (${router.reason}), so ${pick.reason}` : pick.reason;
  return finish(pick.agent, router ? 'fallback' : 'round_robin', reason, null, null);
}

function settledAgent(input: Omit<RoutingInput, 'weights' | 'tally'>, labels: RoutingLabels): { agent: string; by: RoutedBy; reason: string } | null {
  const labelAgent = labels.agent !== null && input.choices.allowed.includes(labels.agent) ? labels.agent : null;
  const preset = input.keepPreset && input.task.agent !== null && input.choices.allowed.includes(input.task.agent) ? input.task.agent : null;
  const given = input.given ?? null;
  // A given agent is what runs; it is credited to the label or the earlier choice it agrees with.
  if (given && given.agent !== labelAgent && given.agent !== preset) return given;
  if (labelAgent !== null) return { agent: labelAgent, by: 'label', reason: `label agent:${labelAgent}` };
  if (preset !== null) return { agent: preset, by: 'preset', reason: `kept ${preset}, chosen for this task before` };
  return null;
}
