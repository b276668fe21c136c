import { constants } from 'node:fs';

/**
 * How a queue's task file is opened: never through a symbolic link (a file swapped for one after its
 * lstat is refused too), and without waiting on a FIFO, which has no writer to end it.
 */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}
