// plan.md: what one planner cycle (or the split of one task) found, proposed, refused, deferred and
// feared, with the ids of the tasks it created; written whether the cycle succeeded or not.

import type { Plan, Refusal } from './plan.js';

export interface PlanRecord {
  /** `Plan for shop` or `Split of task #5: …`. */
  heading: string;
  /** Lines under the heading: which agent, which commit, when (the engine formats them). */
  about: string[];
  /** The plan last accepted from the planner; null when it never gave a usable one. */
  plan: Plan | null;
  /** The created task of each accepted proposal, by the proposal's index. */
  created: ReadonlyMap<number, { id: number }>;
  /** Open tasks standing in for proposals refused as already open, by the proposal's index. */
  standIns?: ReadonlyMap<number, number>;
  /** Every refusal, of every round. */
  refused: readonly (Refusal & { round: number })[];
  /** The round `plan` came from (each correction or revision is a round). */
  round: number;
  /** Why the cycle created nothing, when it failed. */
  failure: string | null;
}

export function renderPlanMarkdown(record: PlanRecord): string {
  const { plan } = record;
  const lines = [`# ${record.heading}`, '', ...record.about, ''];
  if (record.failure) lines.push('## Failed', '', record.failure, '');
  if (plan) {
    lines.push('## What was found', '', plan.findings || '(the planner said nothing about it)', '');
    lines.push('## Proposed tasks', '');
    if (plan.tasks.length === 0) lines.push('None.', '');
    plan.tasks.forEach((task, index) => {
      const created = record.created.get(index);
      const refused = record.refused.some((r) => r.round === record.round && r.index === index);
      const status = created ? `#${created.id}` : refused ? 'refused' : 'not created';
      const after = task.dependsOn.map((dep) => {
        const id = record.created.get(dep)?.id ?? record.standIns?.get(dep);
        return id === undefined ? `task ${dep}` : `#${id}`;
      });
      const facts = [task.role, `priority ${task.priority}`, ...(after.length ? [`after ${after.join(', ')}`] : []), ...(task.labels.length ? [`labels ${task.labels.join(', ')}`] : [])];
      lines.push(`### ${index}. ${task.title} (${status})`, '', `_${facts.join(' · ')}_`, '', task.body.trim(), '');
    });
  }
  lines.push('## Refused', '');
  if (record.refused.length === 0) lines.push('Nothing.', '');
  else lines.push(...record.refused.map((r) => `- round ${r.round}, task ${r.index} "${r.title}": ${r.reason}`), '');
  if (plan) {
    lines.push('## Deferred', '');
    if (plan.deferred.length === 0) lines.push('Nothing.', '');
    else lines.push(...plan.deferred.map((d) => `- ${d.title}${d.reason ? `: ${d.reason}` : ''}`), '');
    lines.push('## Risks', '');
    if (plan.risks.length === 0) lines.push('None named.', '');
    else lines.push(...plan.risks.map((r) => `- ${r}`), '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
