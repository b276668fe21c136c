// Orch's MCP server for one agent run, which the agent CLI starts over stdio (Claude Code:
// `--mcp-config` and `--permission-prompt-tool mcp__orch__permission_prompt`). It holds no state and
// decides nothing: each tool call becomes one request to the run's API on the Unix socket Orch handed
// into the sandbox (ORCH_WORKER_API), which waits for the rules, a person or the timeout.

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { WorkerAnswer, WorkerRequest } from '../core/worker-api.js';

/** The server's name in the agent's MCP config: tools are `mcp__orch__<tool>`. */
export const RUN_MCP_SERVER_NAME = 'orch';
export const PERMISSION_PROMPT_TOOL = 'permission_prompt';
export const ASK_PERSON_TOOL = 'ask_person';

export type AskRunApi = (request: WorkerRequest) => Promise<WorkerAnswer>;

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

export function createRunMcpServer(ask: AskRunApi, version: string): McpServer {
  const server = new McpServer({ name: RUN_MCP_SERVER_NAME, version });

  server.registerTool(
    PERMISSION_PROMPT_TOOL,
    {
      description: "Asks Orch whether the agent may use a tool its permissions do not allow: the project's rules decide, else a person, else the timeout.",
      inputSchema: {
        tool_name: z.string().describe('The tool asking for permission'),
        input: z.record(z.string(), z.unknown()).describe("The tool's input"),
        tool_use_id: z.string().optional().describe('The tool use the request is for'),
      },
    },
    async ({ tool_name, input, tool_use_id }) => {
      const answer = await ask({ kind: 'permission', tool: tool_name, input, toolUseId: tool_use_id ?? null });
      if (answer.kind !== 'permission') throw new Error(`Orch answered a permission request with "${answer.kind}"`);
      // The answer Claude Code expects of a permission prompt tool: one text block holding this JSON.
      return text(JSON.stringify(answer.allow ? { behavior: 'allow', updatedInput: input } : { behavior: 'deny', message: `Orch: ${answer.message}` }));
    },
  );

  server.registerTool(
    ASK_PERSON_TOOL,
    {
      description:
        'Asks a person a question and waits for the answer. Use it when you cannot go on without a decision only a person can make; ' +
        'if nobody answers in time the answer is "no answer": then decide yourself and say so in your summary.',
      inputSchema: { question: z.string().min(1).describe('The question, self-contained: the person sees nothing else') },
    },
    async ({ question }) => {
      const answer = await ask({ kind: 'question', question });
      if (answer.kind !== 'question') throw new Error(`Orch answered a question with "${answer.kind}"`);
      return text(answer.answer);
    },
  );
  return server;
}
