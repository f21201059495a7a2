import {
  AbstractAuthToken,
  type AuthenticationResult,
  TokenService,
  type TokenSet,
} from '../../lib';
import { startDurinApp, type DurinTestApp } from './support/durin-test-app';
import { User } from './support/user.entity';

/**
 * Typed users. The assignments below are the test as much as the assertions: `npm run typecheck`
 * compiles this file under `strict`, where an untyped service's `set.token.user` is `object` and
 * `const u: User = …` fails with TS2739. The runtime half checks the types tell the truth.
 */
describe('TokenService<User> (sqlite)', () => {
  let app: DurinTestApp;

  beforeAll(async () => {
    app = await startDurinApp('sqlite');
  });

  afterAll(async () => {
    await app?.close();
  });

  it('hands out tokens whose user is the app’s User, in the types and at run time', async () => {
    const service = app.module.get<TokenService<User>>(TokenService);
    const created = await app.createUser({ email: 'typed@example.com' });

    const set: TokenSet<AbstractAuthToken<User>> = await service.generateHeaderToken(created);
    const owner: User = set.token.user;
    expect(owner.email).toBe('typed@example.com');

    const verified = await service.verifyToken(set.accessToken);
    const verifiedOwner: User | undefined = verified?.user;
    // Loaded from the database: a real User, as the type says.
    expect(verifiedOwner).toBeInstanceOf(User);
    expect(verifiedOwner?.id).toBe(created.id);

    const outcome: AuthenticationResult<AbstractAuthToken<User>> = await service.authenticate(
      set.accessToken,
      'header',
    );
    if (!outcome.ok) throw new Error(`authentication failed: ${outcome.reason}`);
    const authenticated: User = outcome.user;
    expect(authenticated.email).toBe('typed@example.com');

    const refreshed = await service.refreshToken(set.refreshToken ?? '');
    const refreshedOwner: User | undefined = refreshed?.token.user;
    expect(refreshedOwner?.id).toBe(created.id);
  });

  it('leaves the untyped service as it was: the user is only an `object`', async () => {
    const untyped = app.module.get(TokenService);
    const set = await untyped.generateHeaderToken(await app.createUser());
    // @ts-expect-error TS2739: without a type argument the user is `object`, not a User.
    const owner: User = set.token.user;
    expect(owner.email).toMatch(/@example\.com$/);
  });
});
