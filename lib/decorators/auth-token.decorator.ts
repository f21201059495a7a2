import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { getDurinRequest } from '../http/execution-context';

/**
 * The token the request was authenticated with (`request.authToken`, after `postAuthHandler`), with
 * its user and client loaded; `undefined` on a route the guard did not check (`@Public()`).
 *
 * @example
 * @Get('session')
 * session(@AuthToken() token: AuthTokenEntity) {
 *   return { id: token.id, expiresAt: token.expiresAt };
 * }
 */
export const AuthToken = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => getDurinRequest(context).authToken,
);
