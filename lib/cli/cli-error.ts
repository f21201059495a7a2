/**
 * A failure the `durin` command reports as one line on stderr, never as a stack: the operator
 * needs to know which input or which step was wrong, not where in the library it was noticed.
 */
export class CliError extends Error {
  constructor(
    message: string,
    /** 2 for a wrong command line (usage follows), 1 for everything else. */
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The first line of an error's message: driver errors can span lines and hide SQL below. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0].trim() || (error instanceof Error ? error.name : 'error');
}
