// A write or read the sandbox refused shows up, as far as the OS tells, as an error line in what the
// program printed: "Read-only file system", "Permission denied", "Operation not permitted" (or their
// errno names). Recognising them lets a run's log say "the sandbox refused this" instead of leaving a
// mysterious failure.

const DENIAL = /read-only file system|permission denied|operation not permitted|\bEROFS\b|\bEACCES\b|\bEPERM\b/i;
/** An absolute path in a line: up to whitespace, a quote or a colon that ends it. */
const ABSOLUTE_PATH = /(?:^|[\s'"`(=])(\/[^\s'"`:),]*)/g;

/**
 * The denial a line reports, or null: the line names an error the sandbox causes, and every absolute
 * path in it (when it names any) lies outside the places the run may write. A refusal inside those
 * places is the program's own business (a file mode), not the sandbox's.
 */
export function sandboxDenialIn(line: string, writable: (path: string) => boolean): string | null {
  if (!DENIAL.test(line)) return null;
  const paths = [...line.matchAll(ABSOLUTE_PATH)].map((match) => match[1]!).filter((path) => path.length > 1);
  if (paths.some(writable)) return null;
  const text = line.trim();
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/** At most this many denials are recorded per run: a loop retrying a refused write would flood the log. */
export const MAX_RECORDED_DENIALS = 20;
