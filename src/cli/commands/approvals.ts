import { InvalidArgumentError, type Command } from 'commander';
import type { Approval } from '../../core/approvals.js';
import { relativeTime, table } from '../output.js';
import { command } from '../run.js';

function parseApprovalId(value: string): number {
  const id = /^#?\d+$/.test(value) ? Number(value.replace(/^#/, '')) : Number.NaN;
  if (!Number.isSafeInteger(id) || id <= 0) throw new InvalidArgumentError(`"${value}" is not an approval id (a whole number, as \`orch approvals\` lists them)`);
  return id;
}

/** What an agent asks, in one cell: the question, or the tool with its command or path. */
function asked(approval: Approval): string {
  if (approval.kind === 'question') return `asks: ${approval.question ?? ''}`;
  const input = (approval.input ?? {}) as Record<string, unknown>;
  const detail = input.command ?? input.file_path ?? input.path ?? input.url ?? '';
  return `${approval.tool ?? '?'} ${String(detail)}`.replace(/\s+/g, ' ').trim().slice(0, 100);
}

/** `orch approvals`, `orch approve|deny <id>`, `orch answer <id> <text>`: the people-in-the-loop inbox. */
export function registerApprovalCommands(program: Command): void {
  program
    .command('approvals')
    .description("agents' permission requests and questions waiting for a person (--all: decided ones too)")
    .option('-p, --project <name>', 'only this project')
    .option('--all', 'decided requests too')
    .option('--json', 'print JSON')
    .action(
      command(async (io, options: { project?: string; all?: boolean }) => {
        const orch = await io.orch();
        const approvals = await orch.store.listApprovals({ project: options.project, state: options.all ? undefined : 'pending' });
        const now = orch.now();
        io.out.emit(approvals, () =>
          approvals.length === 0
            ? options.all ? 'No approvals.' : 'Nothing waits for a person.'
            : table(
                approvals.map((a) => [`#${a.id}`, a.project, `task ${a.taskId}`, a.kind, asked(a), a.state === 'pending' ? `waiting ${relativeTime(a.createdAt, now)}` : `${a.state} by ${a.decidedBy ?? '?'}`]),
                ['ID', 'PROJECT', 'TASK', 'KIND', 'ASKED', 'STATE'],
              ),
        );
      }),
    );

  for (const verdict of ['approve', 'deny'] as const) {
    program
      .command(verdict)
      .description(verdict === 'approve' ? "let an agent use the tool it asked for (`orch approvals` lists them)" : 'refuse an agent the tool it asked for; it hears the reason')
      .argument('<id>', 'approval id', parseApprovalId)
      .option('-r, --reason <text>', 'why, for the record (and for the agent)')
      .option('--json', 'print JSON')
      .action(
        command(async (io, id: number, options: { reason?: string }) => {
          const orch = await io.orch();
          const { decideAsPerson } = await import('../../engine/approvals.js');
          const decided = await decideAsPerson(orch, id, verdict, options.reason ?? null);
          io.out.emit(decided, () => `approval #${decided.id}: ${decided.state} (${decided.reason ?? ''})`);
        }),
      );
  }

  program
    .command('answer')
    .description("answer an agent's question; the run goes on with it")
    .argument('<id>', 'approval id', parseApprovalId)
    .argument('<text...>', 'the answer')
    .option('--json', 'print JSON')
    .action(
      command(async (io, id: number, words: string[]) => {
        const orch = await io.orch();
        const { decideAsPerson } = await import('../../engine/approvals.js');
        const decided = await decideAsPerson(orch, id, 'answer', words.join(' '));
        io.out.emit(decided, () => `approval #${decided.id}: answered`);
      }),
    );
}
