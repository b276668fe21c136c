// `orch task publish`: a task that came from no tracker is filed as an issue in its project's tracker
// and follows that issue from then on (its status reported there, its pull request closing it).

import { OrchError } from '../core/errors.js';
import type { Task } from '../core/types.js';
import type { Orch } from './context.js';
import { createTracker } from './tracker-sync.js';

export async function publishTask(orch: Orch, id: number, env: NodeJS.ProcessEnv = process.env): Promise<{ task: Task; url: string }> {
  const task = await orch.store.getTask(id);
  if (!task) throw new OrchError('not_found', `task ${id} not found`);
  if (task.externalRef) throw new OrchError('conflict', `task ${id} already follows ${task.externalRef}`);
  if (task.state === 'done' || task.state === 'cancelled') throw new OrchError('conflict', `task ${id} is ${task.state}: there is nothing left to publish`);
  const project = orch.config.projects[task.project];
  if (!project) throw new OrchError('not_found', `project ${task.project} is not in config.yaml`);
  const tracker = createTracker(project, env, orch.now);
  if (!tracker?.publish) {
    throw new OrchError('invalid_input', `project ${task.project} has a ${project.tracker.kind} tracker, which cannot file issues: give it \`tracker: {kind: github, repo: owner/name}\``);
  }
  const issue = await tracker.publish({ title: task.title, body: task.body, labels: task.labels });
  const linked = await orch.store.transaction(async (tx) => {
    // Another publish may have linked it while the issue was being filed: the first link stands.
    const current = (await tx.getTask(id))!;
    if (current.externalRef) throw new OrchError('conflict', `task ${id} already follows ${current.externalRef} (${issue.url} was filed as well: close it)`);
    return tx.updateTask(id, { expectedVersion: current.version }, { externalRef: issue.ref }, orch.now(), { type: 'task.published', data: { ref: issue.ref, url: issue.url } });
  });
  return { task: linked, url: issue.url };
}
