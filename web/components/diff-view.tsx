// A unified diff, file by file, with added and removed lines marked.

interface DiffFile {
  name: string;
  lines: string[];
  added: number;
  removed: number;
}

const MAX_LINES_PER_FILE = 2000;

export function parseDiff(diff: string): DiffFile[] {
  const files: DiffFile[] = [];
  let current: DiffFile | null = null;
  for (const line of diff.split('\n')) {
    if (line.startsWith('diff --git ')) {
      const name = /^diff --git a\/(.*?) b\/(.*)$/.exec(line)?.[2] ?? line.slice('diff --git '.length);
      current = { name, lines: [], added: 0, removed: 0 };
      files.push(current);
      continue;
    }
    if (!current) continue;
    if (line.startsWith('+++ ') || line.startsWith('--- ')) continue;
    if (line.startsWith('+')) current.added++;
    else if (line.startsWith('-')) current.removed++;
    current.lines.push(line);
  }
  return files;
}

function lineClass(line: string): string {
  if (line.startsWith('@@')) return 'diff-hunk';
  if (line.startsWith('+')) return 'diff-add';
  if (line.startsWith('-')) return 'diff-del';
  if (line.startsWith(' ') || line === '') return 'diff-context';
  return 'diff-meta';
}

export function DiffView({ diff }: { diff: string }) {
  const files = parseDiff(diff);
  if (files.length === 0) return <p class="empty">The branch changes nothing yet.</p>;
  return (
    <div class="diff" data-diff>
      {files.map((file) => (
        <details key={file.name} class="diff-file" open={files.length <= 12}>
          <summary>
            <code class="diff-name">{file.name}</code>
            <span class="diff-counts">
              <span class="diff-added">+{file.added}</span> <span class="diff-removed">−{file.removed}</span>
            </span>
          </summary>
          <pre class="diff-body">
            {file.lines.slice(0, MAX_LINES_PER_FILE).map((line, index) => (
              <span key={index} class={`diff-line ${lineClass(line)}`}>
                {line || ' '}
                {'\n'}
              </span>
            ))}
            {file.lines.length > MAX_LINES_PER_FILE ? <span class="diff-line diff-meta">… {file.lines.length - MAX_LINES_PER_FILE} more lines</span> : null}
          </pre>
        </details>
      ))}
    </div>
  );
}
