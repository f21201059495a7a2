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
  /** Node's per-field header lists (Express, and Fastify's `raw`), used to spot repeated fields. */
  headersDistinct?: Record<string, string[] | undefined>;
  /** Fastify keeps Node's request here. */
  raw?: { headersDistinct?: Record<string, string[] | undefined> };
  /** The authenticated user (after `postAuthHandler`). */
  user?: TUser;
  /** The token the request was authenticated with. */
  authToken?: TToken;
}

/**
 * The `Authorization` field(s). Node keeps only the first of repeated `Authorization` fields in
 * `headers`, so the full list comes from `headersDistinct` when the platform exposes it: a request
 * with two of them must be seen as ambiguous, not as the first one (REQ-HDR-06).
 */
export function readAuthorizationHeader(request: DurinRequest): string | string[] | undefined {
  const distinct = request.headersDistinct ?? request.raw?.headersDistinct;
  const all = distinct?.authorization;
  if (Array.isArray(all) && all.length > 1) return all;
  return request.headers?.authorization;
}

/** The raw `Cookie` field(s); repeated fields are one list (Node already joins them). */
export function readCookieHeader(request: DurinRequest): string | string[] | undefined {
  return request.headers?.cookie;
}
