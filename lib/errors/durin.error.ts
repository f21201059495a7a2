import { HttpException } from '@nestjs/common';

/** The JSON body of every error nestjs-durin answers with. */
export interface DurinErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code: string;
}

/** How a {@link DurinError} is answered over HTTP. */
export interface DurinErrorResponse {
  /** The HTTP status, e.g. `400`. */
  status: number;
  /** Stable, machine-readable reason, e.g. `'unknown_client'`. */
  code: string;
  /**
   * What the client is told. Stable per error and never built from the input: the detailed
   * `message` names the offending value, which is for the server's log, not for whoever sent it.
   */
  publicMessage: string;
  /** Headers that belong to the response (`Retry-After`, `WWW-Authenticate`). */
  headers?: Readonly<Record<string, string>>;
  cause?: unknown;
  /**
   * Whether the error records a stack trace (default `true`). The refusals anyone can provoke at
   * will (a bad token, a missing ability, a rate limit) set `false`: a trace says nothing about
   * them, and recording one cost about 8 µs of CPU per refusal (Node 20, `bench/error-micro.ts`),
   * the largest single cost of answering a flood of forged tokens.
   */
  captureStackTrace?: boolean;
}

/**
 * How long a client should wait before retrying after a 503 (`Retry-After`, seconds): long enough
 * for a database fail-over or restart to be noticed, short enough not to log people out in effect.
 */
export const DURIN_RETRY_AFTER_SECONDS = 5;

/** The answer to a failed or slow token store, shared by the store error and the guard's 503. */
export const STORE_UNAVAILABLE_RESPONSE: Omit<DurinErrorResponse, 'cause'> = {
  status: 503,
  code: 'auth_unavailable',
  publicMessage: 'Authentication is temporarily unavailable. Please retry later.',
  headers: { 'Retry-After': String(DURIN_RETRY_AFTER_SECONDS) },
};

const REASON_PHRASES: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Base class of every error nestjs-durin throws on purpose. It is a Nest `HttpException`, so an
 * error that escapes the app's own code (a login controller calling `generateHeaderToken` with an
 * unknown client) is answered with its documented status and `{ statusCode, error, message, code }`
 * by Nest's default exception filter on Express and Fastify, or by any filter that handles
 * `HttpException`, with no handler code in the app. `instanceof` checks on the typed subclasses
 * keep working.
 *
 * `message` is the detailed, developer-facing text; the response body carries a fixed public
 * message instead (see {@link DurinErrorResponse.publicMessage}).
 */
export class DurinError extends HttpException {
  /** Stable, machine-readable reason, also the body's `code`. */
  readonly code: string;
  /**
   * Headers that belong to this response. The guard and the ready-made routes put them on the
   * response; a custom exception filter (or a GraphQL/WebSocket layer) can read them from here.
   */
  readonly headers: Readonly<Record<string, string>>;

  constructor(message: string, response: DurinErrorResponse) {
    const body: DurinErrorBody = {
      statusCode: response.status,
      error: REASON_PHRASES[response.status] ?? 'Error',
      message: response.publicMessage,
      code: response.code,
    };
    // V8 records the trace in Error's constructor, up to Error.stackTraceLimit frames: lowered
    // around that one call only, and put back at once (HttpException's constructor only copies
    // fields, it does not throw).
    const limit = Error.stackTraceLimit;
    if (response.captureStackTrace === false) Error.stackTraceLimit = 0;
    super(body, response.status, { cause: response.cause });
    Error.stackTraceLimit = limit;
    this.code = response.code;
    this.headers = response.headers ?? {};
    // HttpException takes its message from the body; keep the detailed one for logs and tests.
    this.message = message;
    this.name = new.target.name;
  }
}
