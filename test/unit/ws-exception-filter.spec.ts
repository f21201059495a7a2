import type { ArgumentsHost } from '@nestjs/common';
import {
  DurinUnauthorizedException,
  DurinWsExceptionFilter,
  InsufficientScopeError,
} from '../../lib';

function host(type: string, client: unknown): ArgumentsHost {
  return {
    getType: () => type,
    switchToWs: () => ({ getClient: () => client }),
  } as unknown as ArgumentsHost;
}

describe('DurinWsExceptionFilter', () => {
  const filter = new DurinWsExceptionFilter();

  it('emits the HTTP body as `exception` to a socket.io client', () => {
    const emit = jest.fn();
    filter.catch(
      new InsufficientScopeError(['orders:write'], 'all'),
      host('ws', { handshake: {}, emit }),
    );
    expect(emit).toHaveBeenCalledWith('exception', {
      statusCode: 403,
      error: 'Forbidden',
      message: 'This token lacks an ability this route requires.',
      code: 'insufficient_scope',
    });
  });

  it('sends { event, data } as JSON to a ws client, whose emit is only local', () => {
    const send = jest.fn();
    const emit = jest.fn();
    filter.catch(new DurinUnauthorizedException('token_invalid'), host('ws', { send, emit }));
    expect(emit).not.toHaveBeenCalled();
    expect(JSON.parse(send.mock.calls[0][0] as string)).toEqual({
      event: 'exception',
      data: {
        statusCode: 401,
        error: 'Unauthorized',
        message: 'Invalid token.',
        code: 'token_invalid',
      },
    });
  });

  it('rethrows on any other transport', () => {
    const error = new DurinUnauthorizedException('token_missing');
    expect(() => filter.catch(error, host('http', {}))).toThrow(error);
  });
});
