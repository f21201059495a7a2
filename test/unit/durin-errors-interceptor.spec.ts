import { BadRequestException, Logger } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { lastValueFrom, throwError } from 'rxjs';
import {
  DurinUnauthorizedException,
  DurinUnavailableException,
  InvalidTokenOptionsError,
  TokenStoreUnavailableError,
} from '../../lib';
import { DurinErrorsInterceptor } from '../../lib';

async function run(error: unknown): Promise<{ thrown: unknown; response: ServerResponse }> {
  const response = new ServerResponse(new IncomingMessage(new Socket()));
  const context = new ExecutionContextHost([{}, response]);
  context.setType('http');
  const interceptor = new DurinErrorsInterceptor();
  const thrown = await lastValueFrom(
    interceptor.intercept(context, { handle: () => throwError(() => error) }),
  ).catch((e: unknown) => e);
  return { thrown, response };
}

describe('DurinErrorsInterceptor', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('answers a store failure with 503 and Retry-After, logging only the driver message', async () => {
    const { thrown, response } = await run(
      new TokenStoreUnavailableError(new Error('Connection terminated unexpectedly')),
    );
    expect(thrown).toBeInstanceOf(DurinUnavailableException);
    expect((thrown as DurinUnavailableException).getStatus()).toBe(503);
    expect(response.getHeader('retry-after')).toBe('5');
    expect(Logger.prototype.error).toHaveBeenCalledWith(
      'token store failure: Connection terminated unexpectedly',
    );
  });

  it('leaves an error that is no store failure alone: no 503, no Retry-After', async () => {
    // A stack overflow on a hostile body, a bug: telling clients to retry would be a lie.
    const bug = new RangeError('Maximum call stack size exceeded');
    const { thrown, response } = await run(bug);
    expect(thrown).toBe(bug);
    expect(response.getHeader('retry-after')).toBeUndefined();
    expect(Logger.prototype.error).not.toHaveBeenCalled();
  });

  it('marks every answer of the routes no-store, errors included', async () => {
    const { response } = await run(new DurinUnauthorizedException('token_invalid'));
    expect(response.getHeader('cache-control')).toBe('no-store');
  });

  it('puts the challenge of a 401 on the response', async () => {
    const { thrown, response } = await run(new DurinUnauthorizedException('token_invalid'));
    expect(thrown).toBeInstanceOf(DurinUnauthorizedException);
    expect(response.getHeader('www-authenticate')).toBe(
      'Bearer realm="api", error="invalid_token"',
    );
  });

  it('passes other HTTP errors and programming errors of the library through', async () => {
    const badRequest = new BadRequestException();
    expect((await run(badRequest)).thrown).toBe(badRequest);
    const misuse = new InvalidTokenOptionsError('client', 'nope');
    expect((await run(misuse)).thrown).toBe(misuse);
  });
});
