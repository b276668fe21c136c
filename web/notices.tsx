// Short messages about what a button did (or why it could not), shown for a few seconds.

import { useEffect, useState } from 'preact/hooks';

interface Notice {
  id: number;
  text: string;
  kind: 'ok' | 'error';
}

let notices: Notice[] = [];
let nextId = 1;
const listeners = new Set<(list: Notice[]) => void>();
const SHOW_MS = 6000;

function publish(list: Notice[]): void {
  notices = list;
  for (const listener of listeners) listener(notices);
}

export function notify(text: string, kind: Notice['kind'] = 'ok'): void {
  const notice = { id: nextId++, text, kind };
  publish([...notices.slice(-3), notice]);
  setTimeout(() => publish(notices.filter((n) => n.id !== notice.id)), SHOW_MS);
}

export function Notices() {
  const [list, setList] = useState(notices);
  useEffect(() => {
    listeners.add(setList);
    return () => void listeners.delete(setList);
  }, []);
  return (
    <div class="notices" aria-live="polite">
      {list.map((notice) => (
        <p key={notice.id} class={`notice notice-${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
          {notice.text}
        </p>
      ))}
    </div>
  );
}
