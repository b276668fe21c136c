/**
 * The kinds of failure a user can act on. Faces map them to exit codes and HTTP statuses; the message
 * is always one line that says what is wrong and, where it can, what to do about it.
 * `already_claimed` is a conflict of its own: a pull worker that meets it simply picks another task.
 */
export const ERROR_CODES = ['invalid_input', 'not_found', 'conflict', 'config', 'not_initialised', 'already_claimed'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class OrchError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OrchError';
  }
}
