#!/usr/bin/env node
// The entry the agent CLI starts (see server.ts): stdio in and out, the run's API from its environment.

import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { WORKER_API_SOCKET_VARIABLE, WORKER_API_TOKEN_VARIABLE } from '../core/worker-api.js';
import { askWorkerApi } from '../cli/worker-api-socket.js';
import { createRunMcpServer } from './server.js';

const socketPath = process.env[WORKER_API_SOCKET_VARIABLE]?.trim();
if (!socketPath) {
  process.stderr.write(`orch run MCP server: ${WORKER_API_SOCKET_VARIABLE} is not set: Orch starts this server for a run, with its API\n`);
  process.exit(2);
}
const token = process.env[WORKER_API_TOKEN_VARIABLE] ?? '';
const server = createRunMcpServer((request) => askWorkerApi(socketPath, token, request), '1');
await server.connect(new StdioServerTransport());
