// Agents waiting for a person: their permission requests (approve or deny, with a reason) and their
// questions (answer), each decided once; the waiting agent goes on as soon as it is.

import { useState } from 'preact/hooks';
import type { Approval } from '../../src/core/approvals.js';
import { api, post } from '../api.js';
import { ago } from '../format.js';
import { useResource } from '../hooks.js';
import { notify } from '../notices.js';
import { href } from '../router.js';
import type { OrchEvent } from '../types.js';

const affectsApprovals = (event: OrchEvent) => event.type.startsWith('approval.');

/** What the agent asks for, in one line: the question, or the tool with its command or path. */
function asked(approval: Approval): string {
  if (approval.kind === 'question') return approval.question ?? '';
  const input = (approval.input ?? {}) as Record<string, unknown>;
  const detail = input.command ?? input.file_path ?? input.path ?? input.url;
  return detail === undefined ? JSON.stringify(input) : String(detail);
}

export function ApprovalRequests({ project, now }: { project?: string; now: number }) {
  const pending = useResource(
    `approvals:${project ?? ''}`,
    () => api<Approval[]>(`/approvals${project ? `?project=${encodeURIComponent(project)}` : ''}`),
    { refreshOn: affectsApprovals, intervalMs: 10_000 },
  );
  if (!pending.data || pending.data.length === 0) return null;
  return (
    <ul class="inbox" data-approvals>
      {pending.data.map((approval) => (
        <ApprovalRequest key={approval.id} approval={approval} now={now} onDone={pending.reload} />
      ))}
    </ul>
  );
}

function ApprovalRequest({ approval, now, onDone }: { approval: Approval; now: number; onDone: () => void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const decide = async (verdict: 'approve' | 'deny' | 'answer') => {
    setBusy(true);
    try {
      const body = verdict === 'answer' ? { answer: text } : text.trim() ? { reason: text.trim() } : {};
      await post(`/approvals/${approval.id}/${verdict}`, body);
      notify(`approval #${approval.id}: ${verdict === 'answer' ? 'answered' : verdict === 'approve' ? 'allowed' : 'denied'}`);
      onDone();
    } catch (error) {
      notify(`approval #${approval.id}: ${(error as Error).message}`, 'error');
    } finally {
      setBusy(false);
    }
  };
  const question = approval.kind === 'question';
  return (
    <li class="card inbox-item" data-approval-id={approval.id} data-kind={approval.kind}>
      <div class="inbox-main">
        <h3 class="task-title">
          {question ? 'An agent asks' : `An agent asks to use ${approval.tool ?? 'a tool'}`}{' '}
          <a href={href(`/tasks/${approval.taskId}`)}>
            <span class="muted">#{approval.taskId}</span>
          </a>
        </h3>
        <p class="task-meta">
          <span class="badge">{question ? 'question' : 'permission'}</span>
          <span>{approval.project}</span>
          <span>run {approval.runId}</span>
          <span>asked {ago(approval.createdAt, now)}</span>
        </p>
        <p class="reason">
          <code>{asked(approval)}</code>
        </p>
        <input
          type="text"
          placeholder={question ? 'Your answer' : 'Reason (optional)'}
          value={text}
          onInput={(event) => setText((event.target as HTMLInputElement).value)}
        />
      </div>
      <div class="actions">
        {question ? (
          <button type="button" class="button button-primary" data-action="answer" disabled={busy || text.trim() === ''} onClick={() => void decide('answer')}>
            Answer
          </button>
        ) : (
          <>
            <button type="button" class="button button-primary" data-action="approve" disabled={busy} onClick={() => void decide('approve')}>
              Approve
            </button>
            <button type="button" class="button" data-action="deny" disabled={busy} onClick={() => void decide('deny')}>
              Deny
            </button>
          </>
        )}
      </div>
    </li>
  );
}
