import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { getDurinRequest } from '../http/execution-context';

/**
 * The session context of the request's token, read-only (`token.contextObj`), or one value of it
 * with a key. `undefined` on a route the guard did not check. With `strictContextAccess`, asking
 * for a key the context does not have throws `MissingContextKeyError`.
 *
 * @example
 * @Get('device')
 * device(@TokenContext('device') device: string | undefined, @TokenContext() all: TokenContextData) {
 *   return { device, all };
 * }
 */
export const TokenContext = createParamDecorator(
  (key: string | undefined, context: ExecutionContext) => {
    const token = getDurinRequest(context).authToken;
    if (token === undefined) return undefined;
    const view = token.contextObj;
    return key === undefined ? view : view[key];
  },
);
