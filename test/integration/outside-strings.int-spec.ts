import {
  AuthTokenEntity,
  InvalidClientError,
  InvalidTokenOptionsError,
  TokenService,
} from '../../lib';
import { describeEachDb } from '../support/databases';
import { DurinTestApp, START, startDurinApp } from './support/durin-test-app';

/**
 * Strings from outside are checked before they reach SQL: a value the store cannot hold (a NUL,
 * which PostgreSQL's text types refuse with a driver error) is "unknown" or a typed error, never a
 * raw driver error that would read as a store failure (503) or a 500.
 */
describeEachDb('strings from outside (%s)', (kind) => {
  let app: DurinTestApp;
  let service: TokenService<AuthTokenEntity>;

  beforeAll(async () => {
    app = await startDurinApp(kind);
    service = app.service;
    await service.createClient({ name: 'web' });
  });
  afterAll(() => app.close());
  beforeEach(() => app.clock.set(START));

  const unstorable = ['web\u0000', '\u0000', 'we\u0007b', 'web\ud800', 'x'.repeat(65)];

  it.each(unstorable)('getClient(%j) is null without a query', async (name) => {
    app.recorder.reset();
    expect(await service.getClient(name)).toBeNull();
    expect(app.recorder.count).toBe(0);
  });

  it.each(unstorable)('createClient({ name: %j }) is an InvalidClientError', async (name) => {
    await expect(service.createClient({ name })).rejects.toBeInstanceOf(InvalidClientError);
  });

  it.each(unstorable)('deleteClient(%j) is false', async (name) => {
    expect(await service.deleteClient(name)).toBe(false);
  });

  it.each(unstorable)(
    'a login with client %j is an InvalidTokenOptionsError, nothing written',
    async (client) => {
      const user = await app.createUser();
      app.recorder.reset();
      await expect(service.generateHeaderToken(user, { client })).rejects.toBeInstanceOf(
        InvalidTokenOptionsError,
      );
      expect(app.recorder.count).toBe(0);
      expect(await service.listUserTokens(user)).toEqual([]);
    },
  );

  it('ends no session for an id that cannot exist', async () => {
    const user = await app.createUser();
    const set = await service.generateHeaderToken(user, { client: 'web' });
    for (const id of [`${set.token.id}\u0000`, '\u0000', 'x'.repeat(37)]) {
      expect(await service.revokeUserSession(user, id)).toBe(false);
      expect(await service.revokeToken(id)).toBe(false);
    }
    expect(await service.verifyToken(set.accessToken)).not.toBeNull();
  });

  it('still finds ordinary names, Unicode included', async () => {
    const name = 'Ünïcødé app ✓';
    await service.createClient({ name });
    expect((await service.getClient(name))?.name).toBe(name);
  });
});
