// The check of a request to a pull worker's API (the WorkerRequest of worker-api.ts). Apart from
// worker-api.ts, which the CLI loads to ask, so that asking does not load zod; the API's server checks.

import { z } from 'zod';

export const workerRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ready'), project: z.string().min(1).nullable() }),
  z.object({ kind: z.literal('claim'), taskId: z.int().positive().nullable() }),
  z.object({ kind: z.literal('describe') }),
  z.object({ kind: z.literal('done'), summary: z.string().nullable() }),
]);
