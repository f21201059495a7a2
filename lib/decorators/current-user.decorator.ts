import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { getDurinRequest } from '../http/execution-context';

/**
 * The authenticated user (`request.user`, after `postAuthHandler`); `undefined` on a route the
 * guard did not check (`@Public()`).
 *
 * @example
 * @Get('me')
 * me(@CurrentUser() user: User) {
 *   return { id: user.id, name: user.username };
 * }
 */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => getDurinRequest(context).user,
);
