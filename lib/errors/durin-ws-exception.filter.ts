import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import { DurinError } from './durin.error';

interface SocketIoClientLike {
  emit(event: string, data: unknown): unknown;
}

interface WsClientLike {
  send(data: string): unknown;
}

/**
 * Answers the library's errors on a WebSocket gateway as the client can read them: the event
 * `exception` with the same body an HTTP client gets, `{ statusCode, error, message, code }`
 * (401 `token_invalid` for a token revoked while the socket is open, 403 `insufficient_scope`,
 * 503 `auth_unavailable`). Without it, Nest's WebSocket layer only passes on its own
 * `WsException`, and every guard refusal reaches the client as "Internal server error" (and is
 * logged as one).
 *
 * For gateways only (socket.io, or `ws` where the client gets `{ event, data }` as JSON); an
 * error on another transport is rethrown untouched.
 *
 * @example
 * @UseFilters(DurinWsExceptionFilter)
 * @UseGuards(DurinAuthGuard)
 * @WebSocketGateway()
 * export class OrdersGateway {}
 */
@Catch(DurinError)
export class DurinWsExceptionFilter implements ExceptionFilter<DurinError> {
  catch(error: DurinError, host: ArgumentsHost): void {
    if (host.getType() !== 'ws') throw error;
    const client = host.switchToWs().getClient<unknown>();
    const body = error.getResponse();
    // A `ws` socket is an EventEmitter too, where `emit` would only fire a local event: socket.io
    // sockets are told apart by their handshake.
    if (hasMethod<SocketIoClientLike>(client, 'emit') && 'handshake' in client) {
      client.emit('exception', body);
    } else if (hasMethod<WsClientLike>(client, 'send')) {
      client.send(JSON.stringify({ event: 'exception', data: body }));
    }
  }
}

function hasMethod<T>(value: unknown, name: string): value is T {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>)[name] === 'function'
  );
}
