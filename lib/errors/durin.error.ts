/** Base class of every error nestjs-durin throws on purpose. */
export class DurinError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
