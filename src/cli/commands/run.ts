import type { Command } from 'commander';
import { OrchError } from '../../core/errors.js';
import type { CycleProgress } from '../../engine/cycle.js';
import type { TaskRunSummary } from '../../engine/runner.js';
import { parseTaskId } from '../args.js';
import { say, type Output } from '../output.js';
import { command } from '../run.js';

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

function describeSummary(summary: TaskRunSummary): string {
  const mark = summary.task.state === 'done' || summary.task.state === 'in_review' ? '✓' : summary.task.state === 'needs_review' ? '!' : '✗';
  const delivery = summary.delivery && !summary.delivery.delivered ? ` (not yet in your checkout: ${summary.delivery.message.split('\n')[0]})` : '';
  return `${mark} #${summary.task.id} ${summary.task.state} — ${summary.note}${delivery}`;
}

/** Live progress for a person: one line per start and finish, and who is running every 10 s. */
function progressPrinter(out: Output) {
  const running = new Map<number, { title: string; agent: string; since: number }>();
  const timer = setInterval(() => {
    if (out.json || running.size === 0) return;
    const now = Date.now();
    say(`… running: ${[...running].map(([id, r]) => `#${id} ${r.agent} ${seconds(now - r.since)}`).join(', ')}`);
  }, 10_000);
  const onProgress = (p: CycleProgress) => {
    if (out.json) {
      process.stdout.write(`${JSON.stringify(p)}\n`);
      return;
    }
    if (p.type === 'recovered') for (const r of p.recovered) say(`↺ #${r.taskId} recovered after a crash: ${r.action} (${r.reason})`);
    if (p.type === 'started') {
      running.set(p.taskId, { title: p.title, agent: p.agent, since: Date.now() });
      say(`▶ #${p.taskId} ${p.title.slice(0, 80)} — ${p.agent}, slot ${p.slot}`);
    }
    if (p.type === 'finished') {
      running.delete(p.summary.task.id);
      say(`${describeSummary(p.summary)} [${seconds(p.elapsedMs)}, $${p.summary.task.costUsd.toFixed(2)}]`);
    }
    if (p.type === 'failed') {
      running.delete(p.taskId);
      say(`✗ #${p.taskId} ${p.message}`);
    }
    if (p.type === 'routed') say(`→ #${p.taskId} routed to ${p.agent}${p.model ? ` · ${p.model}` : ''} (${p.by}): ${p.reason}`);
    if (p.type === 'waiting') say(`… ${p.pending} task(s) waiting; next try in ${seconds(p.untilMs - Date.now())}`);
    if (p.type === 'worker_started') say(`▷ worker w${p.workerId} looks for work in ${p.project} — ${p.agent}, slot ${p.slot}`);
    if (p.type === 'worker_claimed') {
      running.set(p.taskId, { title: p.title, agent: `w${p.workerId}`, since: Date.now() });
      say(`▶ #${p.taskId} ${p.title.slice(0, 80)} — claimed by worker w${p.workerId}`);
    }
    if (p.type === 'worker_ended' && p.outcome !== 'claimed') say(`◦ worker w${p.workerId} ${p.outcome}: ${p.reason}`);
    if (p.type === 'delivery') say(p.delivered ? `⇣ ${p.project}: delivered ${p.commits} held commit(s)` : `! ${p.project}: ${p.summary}`);
  };
  return { onProgress, stop: () => clearInterval(timer) };
}

export function registerRunCommands(program: Command, task: Command): void {
  program
    .command('run')
    .description('run the backlog in the foreground: plan, run agents in parallel, judge, merge')
    .option('-p, --project <name>', 'only this project')
    .option('--once', 'stop when no task is left to run (otherwise keep going until Ctrl-C)')
    .option('--json', 'print progress as JSON lines')
    .action(
      command(async (io, options: { project?: string; once?: boolean }) => {
        const orch = await io.orch();
        if (options.project && !orch.config.projects[options.project]) throw new OrchError('not_found', `project "${options.project}" is not in config.yaml`);
        const controller = new AbortController();
        const stopOnSignal = () => controller.abort();
        process.once('SIGINT', stopOnSignal);
        process.once('SIGTERM', stopOnSignal);
        const printer = progressPrinter(io.out);
        try {
          const { runCycle } = await import('../../engine/cycle.js');
          const results = await runCycle(orch, { project: options.project, once: options.once, signal: controller.signal, onProgress: printer.onProgress });
          const done = results.filter((r) => r.task.state === 'done').length;
          if (!io.out.json) say(`${results.length} attempt(s): ${done} merged, ${results.length - done} not merged.`);
        } finally {
          printer.stop();
          process.off('SIGINT', stopOnSignal);
          process.off('SIGTERM', stopOnSignal);
        }
      }),
    );

  task
    .command('run')
    .description('run one task now, through the whole pipeline')
    .argument('<id>', 'task id', parseTaskId)
    .option('--agent <name>', 'the agent to use (default: its routed agent, else the one routing chooses)')
    .option('--json', 'print JSON')
    .action(
      command(async (io, id: number, options: { agent?: string }) => {
        const orch = await io.orch();
        const [{ recover }, { runTask }] = await Promise.all([import('../../engine/recovery.js'), import('../../engine/runner.js')]);
        await recover(orch);
        const summary = await runTask(orch, id, { agent: options.agent });
        io.out.emit(summary, () => describeSummary(summary));
        if (summary.task.state !== 'done') process.exitCode = 1;
      }),
    );
}
