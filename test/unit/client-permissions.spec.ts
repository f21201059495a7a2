import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import {
  AbstractAuthToken,
  AllowClients,
  AuthCookieService,
  AuthGuard,
  ClientEntity,
  ClientForbiddenError,
  DenyClients,
  DurinConfigurationError,
  type DurinRequest,
  ManualClock,
  TokenService,
} from '../../lib';
import { assertClientPermitted } from '../../lib/clients/client-permissions';
import { rememberCredential } from '../../lib/http/request-credential';
import { resolveDurinOptions } from '../../lib/options/resolve-options';

function tokenOf(client: string | null): AbstractAuthToken {
  const token = Object.create(AbstractAuthToken.prototype) as AbstractAuthToken;
  token.client = client === null ? null : Object.assign(new ClientEntity(), { name: client });
  return token;
}

@AllowClients('web', 'mobile')
class AllowController {
  inherited(): void {}
  @DenyClients('web')
  denyWeb(): void {}
  @AllowClients('cli')
  cliOnly(): void {}
}

class OpenController {
  free(): void {}
  @DenyClients('cli')
  noCli(): void {}
}

function contextFor<C extends object>(controller: new () => C, handler: keyof C, req: object = {}) {
  const host = new ExecutionContextHost(
    [req, {}],
    controller,
    controller.prototype[handler] as () => void,
  );
  host.setType('http');
  return host;
}

const reflector = new Reflector();

/** Whether the route admits a token of `client` (`null`: no client; `undefined`: no token). */
function admits<C extends object>(
  controller: new () => C,
  handler: keyof C,
  client: string | null | undefined,
): boolean {
  try {
    assertClientPermitted(
      reflector,
      contextFor(controller, handler),
      client === undefined ? undefined : tokenOf(client),
    );
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(ClientForbiddenError);
    expect((error as ClientForbiddenError).getResponse()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'This client may not use this route.',
      code: 'client_forbidden',
    });
    return false;
  }
}

describe('client permissions', () => {
  it.each([
    ['inherited', 'web', true],
    ['inherited', 'mobile', true],
    ['inherited', 'cli', false],
    ['inherited', null, false],
    ['inherited', undefined, false],
    // The handler's policy replaces the controller's: a deny list admits everyone else.
    ['denyWeb', 'web', false],
    ['denyWeb', 'cli', true],
    ['denyWeb', null, true],
    ['cliOnly', 'cli', true],
    ['cliOnly', 'web', false],
  ] as const)('@AllowClients controller, handler %s, client %p: admitted %p', (h, c, ok) => {
    expect(admits(AllowController, h, c)).toBe(ok);
  });

  it.each([
    ['free', 'cli', true],
    ['free', null, true],
    ['noCli', 'cli', false],
    ['noCli', 'web', true],
    ['noCli', null, true],
    ['noCli', undefined, true],
  ] as const)('undecorated controller, handler %s, client %p: admitted %p', (h, c, ok) => {
    expect(admits(OpenController, h, c)).toBe(ok);
  });

  it('client names are exact: no case folding, no trimming', () => {
    expect(admits(AllowController, 'inherited', 'Web')).toBe(false);
    expect(admits(AllowController, 'inherited', 'web ')).toBe(false);
  });

  it.each([
    ['no names', []],
    ['an empty name', ['']],
    ['a name longer than 64', ['x'.repeat(65)]],
    ['a NUL', ['we\u0000b']],
    ['a newline', ['web\n']],
    ['a number', [1]],
    ['null', [null]],
  ])('refuses %s when the class is declared', (_what, names) => {
    for (const decorator of [AllowClients, DenyClients]) {
      expect(() => decorator(...(names as string[]))).toThrow(DurinConfigurationError);
    }
  });

  it('names the decorator in the configuration error', () => {
    expect(() => AllowClients()).toThrow(/@AllowClients\(\)/);
    expect(() => DenyClients('')).toThrow(/@DenyClients\(\)/);
    expect(() => AllowClients('x'.repeat(64))).not.toThrow();
  });
});

describe('AuthGuard and client permissions', () => {
  const options = resolveDurinOptions({ userEntity: class {}, tokenTtl: '1h' });
  const authenticate = jest.fn();
  const tokens = { authenticate } as unknown as TokenService;
  const guard = new AuthGuard(
    reflector,
    tokens,
    new AuthCookieService(options, new ManualClock(0)),
    options,
  );

  it('checks the policy on a request another guard of the instance already accepted', async () => {
    const req: DurinRequest = { headers: {}, user: {}, authToken: tokenOf('cli') };
    rememberCredential(req, 'durin_at_x', 'header', tokens);
    await expect(guard.canActivate(contextFor(AllowController, 'inherited', req))).rejects.toThrow(
      ClientForbiddenError,
    );
    await expect(guard.canActivate(contextFor(AllowController, 'cliOnly', req))).resolves.toBe(
      true,
    );
    expect(authenticate).not.toHaveBeenCalled();
  });

  it('checks the token handleRequest set, after authenticating', async () => {
    authenticate.mockResolvedValue({
      ok: true,
      user: {},
      token: tokenOf('web'),
      autoRefreshed: false,
    });
    const req = () => ({ headers: { authorization: 'Bearer durin_at_abc' } });
    await expect(guard.canActivate(contextFor(AllowController, 'inherited', req()))).resolves.toBe(
      true,
    );
    await expect(guard.canActivate(contextFor(AllowController, 'denyWeb', req()))).rejects.toThrow(
      ClientForbiddenError,
    );
  });
});
