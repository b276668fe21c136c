import type { Command } from 'commander';
import { orchHome } from '../../config/home.js';

export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description('serve Orch as an MCP server over stdio: tasks, status and costs for Claude Code, Claude Desktop or any MCP client')
    .action(async () => {
      // The SDK loads here, when the server starts, and never on another command's path (help included).
      const { serveMcpOverStdio } = await import('../../mcp/orch-server.js');
      await serveMcpOverStdio(orchHome());
    });
}
