import type { Kysely, Selectable } from 'kysely';
import type { Approval, ApprovalDecider, ApprovalDecision, ApprovalKind, ApprovalState } from '../../core/approvals.js';
import type { StoreOps } from '../store.js';
import { appendEvent } from './event-ops.js';
import type { ApprovalsTable, Database } from './schema.js';

export type ApprovalOps = Pick<StoreOps, 'createApproval' | 'decideApproval' | 'getApproval' | 'listApprovals'>;

/** The event of a decision: who or what decided, what, and why. */
const decidedEvent = (approval: Approval, decision: ApprovalDecision) => ({
  type: 'approval.decided',
  project: approval.project,
  taskId: approval.taskId,
  runId: approval.runId,
  data: { approval: approval.id, kind: approval.kind, tool: approval.tool, state: decision.state, decidedBy: decision.decidedBy, reason: decision.reason },
});

export function approvalOps(db: Kysely<Database>): ApprovalOps {
  return {
    async createApproval(request, now, decision) {
      const row = await db
        .insertInto('approvals')
        .values({
          project: request.project,
          task_id: request.taskId,
          run_id: request.runId,
          kind: request.kind,
          tool: request.tool,
          input: JSON.stringify(request.input ?? null),
          question: request.question,
          state: decision?.state ?? 'pending',
          decided_by: decision?.decidedBy ?? null,
          reason: decision?.reason ?? null,
          created_at: now,
          decided_at: decision ? now : null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const approval = toApproval(row);
      await appendEvent(
        db,
        {
          type: 'approval.requested',
          project: approval.project,
          taskId: approval.taskId,
          runId: approval.runId,
          data: { approval: approval.id, kind: approval.kind, state: approval.state, tool: approval.tool, input: eventInput(approval.input), question: approval.question },
        },
        now,
      );
      if (decision) await appendEvent(db, decidedEvent(approval, decision), now);
      return approval;
    },

    async decideApproval(id, decision, now) {
      // Only a pending request is decided, once: a person and the timeout racing, one of them wins.
      const row = await db
        .updateTable('approvals')
        .set({ state: decision.state, decided_by: decision.decidedBy, reason: decision.reason, decided_at: now })
        .where('id', '=', id)
        .where('state', '=', 'pending')
        .returningAll()
        .executeTakeFirst();
      if (!row) return null;
      const approval = toApproval(row);
      await appendEvent(db, decidedEvent(approval, decision), now);
      return approval;
    },

    async getApproval(id) {
      const row = await db.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toApproval(row) : undefined;
    },

    async listApprovals(filter = {}) {
      let query = db.selectFrom('approvals').selectAll().orderBy('id', 'asc');
      if (filter.state !== undefined) query = query.where('state', '=', filter.state);
      if (filter.project !== undefined) query = query.where('project', '=', filter.project);
      if (filter.runId !== undefined) query = query.where('run_id', '=', filter.runId);
      if (filter.limit !== undefined) query = query.limit(filter.limit);
      return (await query.execute()).map(toApproval);
    },
  };
}

/** An event keeps a tool's input whole up to this many characters of JSON; the approvals table always does. */
const EVENT_INPUT_CHARS = 2000;

/** The input as the event keeps it: whole when short, else the start of its JSON (a file an agent asks to write). */
function eventInput(input: unknown): unknown {
  const json = JSON.stringify(input ?? null);
  return json.length <= EVENT_INPUT_CHARS ? input : { preview: json.slice(0, EVENT_INPUT_CHARS), chars: json.length };
}

function toApproval(row: Selectable<ApprovalsTable>): Approval {
  return {
    id: row.id,
    project: row.project,
    taskId: row.task_id,
    runId: row.run_id,
    kind: row.kind as ApprovalKind,
    tool: row.tool,
    input: parseJson(row.input),
    question: row.question,
    state: row.state as ApprovalState,
    decidedBy: row.decided_by as ApprovalDecider | null,
    reason: row.reason,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
