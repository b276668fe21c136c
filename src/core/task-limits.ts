// The limits a task's text must keep to, defined once and applied at every door a task comes in by:
// the CLI, the HTTP API, trackers and the planner. A task outside them could never run (a NUL cannot be
// passed to a process, a body of megabytes does not fit a model's context), so it is refused when it
// is offered rather than failing every attempt later.

/** Characters in a title (it is one line: details belong in the body). */
export const MAX_TITLE_CHARS = 300;
/** Bytes of a body, as UTF-8: far more than a task needs, far less than a model's context. */
export const MAX_BODY_BYTES = 256 * 1024;
export const MAX_LABEL_CHARS = 100;
export const MAX_LABELS = 50;

export interface TaskText {
  title: string;
  body?: string;
  labels?: string[];
}

/** `256 KiB`, `1.5 MiB`: sizes people read, rounded up so that a size over a limit never reads as the limit. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${trimmed(bytes / 1024)} KiB`;
  return `${trimmed(bytes / (1024 * 1024))} MiB`;
}

const trimmed = (value: number) => (Number.isInteger(value) ? String(value) : (Math.ceil(value * 10) / 10).toFixed(1));

/** UTF-8 length of a string, counted without encoding it. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is one code point of four bytes.
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** A body over the limit, said the same way wherever it came from. */
export const bodyTooLarge = (size: string) => `a task body must be at most ${formatBytes(MAX_BODY_BYTES)}, this one is ${size}: shorten it or point to a file in the repository`;

/**
 * What is wrong with a task's text, as one line that says what to fix, or null when it is fine.
 * The title is checked as it will be kept (trimmed).
 */
export function taskTextProblem(text: TaskText): string | null {
  const title = text.title.trim();
  if (title === '') return 'a task needs a title';
  if (title.includes('\0')) return 'a task title must not contain a NUL character: remove it';
  if (/[\r\n]/.test(title)) return 'a task title must be one line (put details in the body)';
  if (title.length > MAX_TITLE_CHARS) return `a task title must be at most ${MAX_TITLE_CHARS} characters, this one has ${title.length} (put details in the body)`;
  const body = text.body ?? '';
  if (body.includes('\0')) return 'a task body must not contain a NUL character (is it a binary file?): remove it';
  const bodyBytes = utf8Bytes(body);
  if (bodyBytes > MAX_BODY_BYTES) return bodyTooLarge(formatBytes(bodyBytes));
  const labels = text.labels ?? [];
  if (labels.length > MAX_LABELS) return `a task may have at most ${MAX_LABELS} labels, this one has ${labels.length}`;
  for (const label of labels) {
    if (label.trim() === '' || label.length > MAX_LABEL_CHARS || /[\r\n\0]/.test(label)) {
      return `a label must be one non-empty line of at most ${MAX_LABEL_CHARS} characters without NUL, got "${preview(label)}"`;
    }
  }
  return null;
}

const preview = (text: string) => {
  const clean = text.replace(/[\r\n\0]/g, ' ');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
};
