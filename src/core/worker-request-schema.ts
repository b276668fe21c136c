// The check of a request to a pull worker's API (the WorkerRequest of worker-api.ts). Apart from
// worker-api.ts, which the CLI loads to ask, so that asking does not load zod; the API's server checks.

import { z } from 'zod';

export const workerRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ready'), project: z.string().min(1).nullable() }),
  z.object({ kind: z.literal('claim'), taskId: z.int().positive().nullable() }),
  z.object({ kind: z.literal('describe') }),
  z.object({ kind: z.literal('done'), summary: z.string().nullable() }),
  // A run's agent asking for a tool it may not use unasked, or asking a person (through Orch's MCP server).
  z.object({ kind: z.literal('permission'), tool: z.string().min(1).max(200), input: z.record(z.string(), z.unknown()), toolUseId: z.string().nullable() }),
  z.object({ kind: z.literal('question'), question: z.string().trim().min(1).max(4000) }),
]);
