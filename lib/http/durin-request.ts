import type { AbstractAuthToken } from '../entities/abstract-auth-token.entity';

type HeaderBag = Record<string, string | string[] | undefined>;

/**
 * The parts of a request nestjs-durin reads and writes: an Express request, a Fastify request, a
 * GraphQL context's `req`, or a WebSocket handshake all fit. After the guard let a request through,
 * `user` and `authToken` are set on this object, which is the one Nest passes to handlers.
 *
 * @example
 * @Get('me')
 * me(@Req() request: DurinRequest<User>) {
 *   return request.user;
 * }
 */
export interface DurinRequest<
  TUser extends object = object,
  TToken extends AbstractAuthToken = AbstractAuthToken,
> {
  headers?: HeaderBag;
  /** Node's header list as received, name and value alternating; used to spot repeated fields. */
  rawHeaders?: string[];
  /** Fastify keeps Node's request here. */
  raw?: { rawHeaders?: string[] };
  /** The authenticated user (after `postAuthHandler`). */
  user?: TUser;
  /** The token the request was authenticated with. */
  authToken?: TToken;
}

/**
 * The `Authorization` field(s). Node keeps only the first of repeated `Authorization` fields in
 * `headers`, so a request with two of them must be recognised from `rawHeaders` as ambiguous, not
 * read as the first one (REQ-HDR-06). `rawHeaders` is the array Node already holds; Node's
 * `headersDistinct` would build a new object of every header on each request, on the hot path.
 */
export function readAuthorizationHeader(request: DurinRequest): string | string[] | undefined {
  const first = request.headers?.authorization;
  if (first === undefined) return undefined;
  const raw = request.rawHeaders ?? request.raw?.rawHeaders;
  if (!Array.isArray(raw)) return first;
  let all: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 13 && name.toLowerCase() === 'authorization') {
      (all ??= []).push(raw[i + 1]);
    }
  }
  return all !== undefined && all.length > 1 ? all : first;
}

/** The raw `Cookie` field(s); repeated fields are one list (Node already joins them). */
export function readCookieHeader(request: DurinRequest): string | string[] | undefined {
  return request.headers?.cookie;
}
