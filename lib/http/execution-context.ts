import type { ExecutionContext } from '@nestjs/common';
import type { DurinRequest } from './durin-request';

interface GraphQlContextLike {
  req?: DurinRequest & { res?: unknown };
  res?: unknown;
  reply?: unknown;
}

interface WsClientLike {
  handshake?: DurinRequest;
  upgradeReq?: DurinRequest;
  request?: DurinRequest;
}

function graphQlContext(context: ExecutionContext): GraphQlContextLike | undefined {
  // GraphQL resolvers get (root, args, context, info); reading the third argument directly
  // avoids a dependency on @nestjs/graphql just for GqlExecutionContext.
  const gql: unknown = context.getArgs()[2];
  return typeof gql === 'object' && gql !== null ? (gql as GraphQlContextLike) : undefined;
}

/**
 * The request of an execution context: the HTTP request, a GraphQL context's `req`, or for
 * WebSockets the client's handshake (socket.io) or upgrade request (ws), which carry the headers.
 * Used by {@link AuthGuard.getRequest} and by the parameter decorators.
 */
export function getDurinRequest(context: ExecutionContext): DurinRequest {
  const type = context.getType<string>();
  if (type === 'graphql') {
    return graphQlContext(context)?.req ?? {};
  }
  if (type === 'ws') {
    const client = context.switchToWs().getClient<WsClientLike | undefined>();
    return (
      client?.handshake ?? client?.upgradeReq ?? client?.request ?? (client as DurinRequest) ?? {}
    );
  }
  return context.switchToHttp().getRequest<DurinRequest>();
}

/**
 * The response of an execution context, where headers and cookies go; `undefined` when there is
 * none (WebSockets, a GraphQL context without one). Express and Fastify GraphQL servers put it on
 * the context as `res` or `reply`, or on the request as `req.res`.
 */
export function getDurinResponse(context: ExecutionContext): unknown {
  const type = context.getType<string>();
  if (type === 'graphql') {
    const gql = graphQlContext(context);
    return gql?.res ?? gql?.reply ?? gql?.req?.res;
  }
  if (type === 'ws') {
    return undefined;
  }
  return context.switchToHttp().getResponse<unknown>();
}
