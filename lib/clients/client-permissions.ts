import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DURIN_CLIENTS_KEY } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { ClientForbiddenError } from '../errors/security-errors';
import { describe } from '../options/duration';
import { CLIENT_NAME_MAX, isStorableString } from '../store/stored-strings';

/**
 * Which clients a route admits, as `@AllowClients()` / `@DenyClients()` store it. One metadata key
 * for both, so the handler's policy replaces the controller's whole (an `@AllowClients('cli')`
 * handler in a `@DenyClients('cli')` controller admits `cli` only).
 */
export type ClientPolicy =
  { readonly allow: ReadonlySet<string> } | { readonly deny: ReadonlySet<string> };

/**
 * The policy for a decorator's arguments, checked when the class is declared: a typo such as an
 * empty name or a number must stop the app at start-up rather than refuse (or admit) requests.
 * The names follow the rules of `createClient` (1 to 64 characters, no control characters);
 * whether such a client exists is not checked, so clients may be created after boot.
 */
export function clientPolicy(
  kind: 'allow' | 'deny',
  decorator: string,
  names: readonly unknown[],
): ClientPolicy {
  if (names.length === 0) {
    throw new DurinConfigurationError(decorator, 'needs at least one client name');
  }
  for (const name of names) {
    if (!isStorableString(name, CLIENT_NAME_MAX)) {
      throw new DurinConfigurationError(
        decorator,
        `client names are strings of 1 to ${CLIENT_NAME_MAX} characters without control characters (got ${describe(name)})`,
      );
    }
  }
  const set = new Set(names as string[]);
  return kind === 'allow' ? { allow: set } : { deny: set };
}

/**
 * Refuses, with {@link ClientForbiddenError} (403 `client_forbidden`), a request whose token's
 * client the route's policy does not admit. Runs after authentication on the token that came with
 * the user in the same lookup (or from the cache), so it costs no SQL. A request without a token
 * (a `handleRequest` override that lets anonymous requests through) has no client: refused under
 * `@AllowClients()`, admitted under `@DenyClients()`.
 */
export function assertClientPermitted(
  reflector: Reflector,
  context: ExecutionContext,
  token: AbstractAuthToken | undefined,
): void {
  assertPolicyAdmits(routeClientPolicy(reflector, context), token);
}

/** The route's `@AllowClients()` / `@DenyClients()` policy (the handler's over the controller's). */
export function routeClientPolicy(
  reflector: Reflector,
  context: ExecutionContext,
): ClientPolicy | undefined {
  return reflector.getAllAndOverride<ClientPolicy | undefined>(DURIN_CLIENTS_KEY, [
    context.getHandler(),
    context.getClass(),
  ]);
}

/** {@link assertClientPermitted} with the route's policy already read. */
export function assertPolicyAdmits(
  policy: ClientPolicy | undefined,
  token: AbstractAuthToken | undefined,
): void {
  if (policy === undefined) return;
  const client = token?.client?.name ?? null;
  const permitted =
    'allow' in policy
      ? client !== null && policy.allow.has(client)
      : client === null || !policy.deny.has(client);
  if (!permitted) {
    throw new ClientForbiddenError(client);
  }
}
