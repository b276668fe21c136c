// The inbox's tools: the permission requests and questions agents are waiting on, and a person's
// answer to each, decided through the engine as `orch approve|deny|answer` decides them.

import { z } from 'zod';
import { APPROVAL_STATES, type Approval } from '../core/approvals.js';
import { decideAsPerson } from '../engine/approvals.js';
import { defineTool, type OrchTool } from './tool-kit.js';

const id = z.number().int().positive().describe('the request id (list_approvals)');

function line(approval: Approval): string {
  const what = approval.kind === 'question' ? `asks: ${approval.question ?? ''}` : `asks to use ${approval.tool ?? 'a tool'} ${JSON.stringify(approval.input)}`;
  return `#${approval.id} task ${approval.taskId} (${approval.project}) ${what}`.slice(0, 300);
}

const listApprovals = defineTool({
  name: 'list_approvals',
  title: 'List approvals',
  description: "The permission requests and questions of running agents: those waiting for a person by default. Each agent waits until someone decides (approve_request, deny_request, answer_question) or the project's timeout passes.",
  effect: 'reads',
  input: {
    state: z.enum(APPROVAL_STATES, { error: `expected one of ${APPROVAL_STATES.join(', ')}` }).optional().describe('only this state (default pending)'),
    project: z.string().optional().describe('only this project'),
    limit: z.number().int().positive().max(500).optional().describe('at most this many (default 50)'),
  },
  async run(ctx, args) {
    const approvals = await ctx.withOrch((orch) => orch.store.listApprovals({ state: args.state ?? 'pending', project: args.project, limit: args.limit ?? 50 }));
    const summary = approvals.length === 0 ? `No ${args.state ?? 'pending'} request.` : approvals.map(line).join('\n');
    return { summary, data: approvals };
  },
});

const decide = (name: string, title: string, verdict: 'approve' | 'deny', description: string) =>
  defineTool({
    name,
    title,
    description,
    effect: 'changes',
    input: { id, reason: z.string().max(2_000).optional().describe('why: the agent hears it') },
    async run(ctx, args) {
      const decided = await ctx.withOrch((orch) => decideAsPerson(orch, args.id, verdict, args.reason ?? null));
      return { summary: `#${decided.id} ${decided.state}: ${decided.reason ?? ''}`, data: decided };
    },
  });

const answerQuestion = defineTool({
  name: 'answer_question',
  title: 'Answer a question',
  description: "Answers an agent's question (list_approvals shows them): the answer goes back into its run.",
  effect: 'changes',
  input: { id, answer: z.string().min(1, 'an answer cannot be empty').max(10_000).describe('the answer, as the agent will read it') },
  async run(ctx, args) {
    const decided = await ctx.withOrch((orch) => decideAsPerson(orch, args.id, 'answer', args.answer));
    return { summary: `#${decided.id} answered.`, data: decided };
  },
});

export const APPROVAL_TOOLS: readonly OrchTool[] = [
  listApprovals,
  decide('approve_request', 'Approve a request', 'approve', "Lets an agent use the tool it asked for (list_approvals shows the waiting requests)."),
  decide('deny_request', 'Deny a request', 'deny', 'Refuses an agent the tool it asked for; the reason is what the agent hears.'),
  answerQuestion,
];
