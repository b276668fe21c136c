// `orch mcp`: Orch as an MCP server over stdio, built on the official SDK. A person drives Orch from an
// MCP client (Claude Code, Claude Desktop), and an agent files follow-up work, through the engine's own
// use cases. Stdout carries the protocol alone; everything else goes to stderr.

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, type CallToolResult, type ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { nudgeDaemon } from '../cli/daemon-client.js';
import { orchVersion } from '../cli/orch-version.js';
import { describeFailure } from '../cli/output.js';
import { describeIssues } from '../server/validation.js';
import { APPROVAL_TOOLS } from './approval-tools.js';
import { PORTFOLIO_TOOLS } from './portfolio-tools.js';
import { TASK_TOOLS } from './task-tools.js';
import { toolContext, type OrchTool, type ToolContext, type ToolEffect } from './tool-kit.js';

/** Every tool the server offers, group by group. */
const TOOL_GROUPS: readonly (readonly OrchTool[])[] = [TASK_TOOLS, PORTFOLIO_TOOLS, APPROVAL_TOOLS];

export const ORCH_TOOL_NAMES = TOOL_GROUPS.flat().map((tool) => tool.name);

const INSTRUCTIONS =
  'Orch runs a team of AI coding agents on a backlog of tasks, each in its own git worktree, then judges and merges the result. ' +
  'Use list_tasks and show_task to see the work, add_task to file new work, retry_task and cancel_task to steer it, status and costs for the whole picture, ' +
  'list_approvals to see what waiting agents ask, approve_request, deny_request and answer_question to answer them.';

const ANNOTATIONS: Record<ToolEffect, ToolAnnotations> = {
  reads: { readOnlyHint: true, openWorldHint: false },
  changes: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  stops: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
};

const log = (line: string) => process.stderr.write(`orch mcp: ${line}\n`);

const toolError = (message: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text: message }] });

/**
 * A tool's reply, or its failure as a tool error of one line: a bad call never ends the server. The
 * arguments are checked here against the tool's input shape, as the HTTP API checks a body: one line
 * naming every field that is wrong (the SDK's own check puts one field per line behind a JSON-RPC code).
 */
async function callTool(tool: OrchTool, ctx: ToolContext, input: unknown): Promise<CallToolResult> {
  const args = z.object(tool.input).safeParse(input ?? {});
  if (!args.success) return toolError(`${tool.name}: ${describeIssues(args.error, 'arguments')}`);
  try {
    const reply = await tool.run(ctx, args.data);
    return { content: [{ type: 'text', text: reply.summary }, { type: 'text', text: JSON.stringify(reply.data, null, 2) }] };
  } catch (error) {
    const failure = describeFailure(error);
    if (failure.code === 'failure') log(`${tool.name} failed: ${(error as Error).stack ?? failure.message}`);
    return toolError(failure.message);
  }
}

export function createOrchMcpServer(ctx: ToolContext): McpServer {
  const server = new McpServer({ name: 'orch', title: 'Orch', version: orchVersion() }, { instructions: INSTRUCTIONS });
  const tools = new Map(TOOL_GROUPS.flat().map((tool) => [tool.name, tool]));
  for (const tool of tools.values()) {
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: tool.input, annotations: { title: tool.title, ...ANNOTATIONS[tool.effect] } },
      (args) => callTool(tool, ctx, args),
    );
  }
  // The SDK lists the tools and their JSON Schemas; calls come here, so that their arguments are
  // checked once, by callTool, with the one-line refusal (this replaces the SDK's tools/call handler).
  server.server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = tools.get(request.params.name);
    if (!tool) return toolError(`unknown tool "${request.params.name}": use one of ${[...tools.keys()].join(', ')}`);
    return callTool(tool, ctx, request.params.arguments);
  });
  return server;
}

/** Serves the ORCH_HOME `home` on stdin and stdout until the client closes its end. */
export async function serveMcpOverStdio(home: string): Promise<void> {
  // A stray console.log anywhere below would corrupt the protocol stream: such lines go to stderr.
  console.log = console.info = console.debug = console.error;
  const server = createOrchMcpServer(toolContext(home, process.cwd(), async () => void (await nudgeDaemon(home))));
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = resolve;
  });
  server.server.onerror = (error) => log(error.message);
  await server.connect(new StdioServerTransport());
  process.stdin.once('end', () => void server.close());
  log(`serving ${home} over stdio (tools: ${ORCH_TOOL_NAMES.join(', ')})`);
  await closed;
}
