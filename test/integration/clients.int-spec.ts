import {
  AuthTokenEntity,
  ClientAlreadyExistsError,
  ClientEntity,
  InvalidClientError,
  TokenService,
} from '../../lib';
import { describeEachDb } from '../support/databases';
import { DurinTestApp, HOUR, START, startDurinApp } from './support/durin-test-app';

describeEachDb('TokenService clients (%s)', (kind) => {
  let app: DurinTestApp;
  let service: TokenService<AuthTokenEntity>;
  let counter = 0;
  const uniqueName = (base: string) => `${base}-${++counter}`;

  beforeAll(async () => {
    app = await startDurinApp(kind);
    service = app.service;
  });
  afterAll(() => app.close());
  beforeEach(() => app.clock.set(START));

  it('creates a client with its lifetimes in seconds and the creation time', async () => {
    const name = uniqueName('mobile');
    const client = await service.createClient({
      name,
      tokenTtl: '15m',
      refreshTokenTtl: 86_400,
      throttleRate: '100/m',
    });
    expect(client).toBeInstanceOf(ClientEntity);
    expect(client).toMatchObject({
      name,
      tokenTtl: 900,
      refreshTokenTtl: 86_400,
      throttleRate: '100/m',
      createdAt: new Date(START),
    });
    expect(typeof client.id).toBe('number');
    expect(await service.getClient(name)).toEqual(client);
  });

  it('defaults the lifetimes and the throttle rate to null', async () => {
    const name = uniqueName('web');
    expect(await service.createClient({ name })).toMatchObject({
      tokenTtl: null,
      refreshTokenTtl: null,
      throttleRate: null,
    });
  });

  it.each(['1/s', '100/m', '5000/h', '10/d', '999999999/s'])(
    'accepts the throttle rate %j',
    async (rate) => {
      const client = await service.createClient({ name: uniqueName('rate'), throttleRate: rate });
      expect(client.throttleRate).toBe(rate);
    },
  );

  it('accepts names of 1 and 64 characters', async () => {
    const long = `${++counter}`.padEnd(64, 'x');
    expect((await service.createClient({ name: long })).name).toBe(long);
    const short = String.fromCharCode(65 + (counter % 26));
    expect((await service.createClient({ name: short })).name).toBe(short);
  });

  describe('refuses invalid fields with an error naming the field', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['an empty name', { name: '' }, 'name'],
      ['a blank name', { name: '  \t ' }, 'name'],
      ['a name of 65 characters', { name: 'x'.repeat(65) }, 'name'],
      ['a name that is not a string', { name: 42 }, 'name'],
      ['a missing name', { name: undefined }, 'name'],
      ['an invalid tokenTtl', { tokenTtl: '15 minutes' }, 'tokenTtl'],
      ['a negative tokenTtl', { tokenTtl: -1 }, 'tokenTtl'],
      ['a zero tokenTtl', { tokenTtl: 0 }, 'tokenTtl'],
      ['an invalid refreshTokenTtl', { refreshTokenTtl: 'abc' }, 'refreshTokenTtl'],
      ['an unknown throttle period', { throttleRate: '100/x' }, 'throttleRate'],
      ['an upper-case throttle period', { throttleRate: '100/M' }, 'throttleRate'],
      ['a zero throttle rate', { throttleRate: '0/m' }, 'throttleRate'],
      ['a throttle rate with spaces', { throttleRate: '100 / m' }, 'throttleRate'],
      ['a throttle rate without period', { throttleRate: '100' }, 'throttleRate'],
      ['a throttle rate as a number', { throttleRate: 100 }, 'throttleRate'],
    ];

    it.each(cases)('%s', async (_name, fields, field) => {
      const before = await app.dataSource.getRepository(ClientEntity).count();
      const input = { name: uniqueName('bad'), ...fields };
      const attempt = service.createClient(input as never);
      await expect(attempt).rejects.toThrow(InvalidClientError);
      await expect(service.createClient(input as never)).rejects.toMatchObject({ field });
      expect(await app.dataSource.getRepository(ClientEntity).count()).toBe(before);
    });

    it('refuses a non-object', async () => {
      await expect(service.createClient(null as never)).rejects.toThrow(InvalidClientError);
    });
  });

  it('refuses a duplicate name with ClientAlreadyExistsError', async () => {
    const name = uniqueName('dup');
    await service.createClient({ name });
    await expect(service.createClient({ name, tokenTtl: 60 })).rejects.toThrow(
      ClientAlreadyExistsError,
    );
    expect(await app.dataSource.getRepository(ClientEntity).countBy({ name })).toBe(1);
  });

  it('of concurrent creations with one name, exactly one succeeds and the rest are duplicates', async () => {
    const name = uniqueName('race');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, () => service.createClient({ name })),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        expect(outcome.reason).toBeInstanceOf(ClientAlreadyExistsError);
      }
    }
    expect(await app.dataSource.getRepository(ClientEntity).countBy({ name })).toBe(1);
  });

  it('getClient gives null for unknown names and non-strings', async () => {
    expect(await service.getClient('no-such-client')).toBeNull();
    expect(await service.getClient(undefined as never)).toBeNull();
    expect(await service.getClient({ name: 'x' } as never)).toBeNull();
  });

  it('deleteClient deletes the client and every token issued for it, nothing else', async () => {
    const name = uniqueName('doomed');
    const keep = uniqueName('kept');
    await service.createClient({ name });
    await service.createClient({ name: keep });
    const user = await app.createUser();
    const a = await service.generateHeaderToken(user, { client: name });
    const b = await service.generateCookieToken(user, { client: name });
    const b2 = (await service.refreshToken(b.refreshToken))!;
    const other = await service.generateHeaderToken(user, { client: keep });
    const plain = await service.generateHeaderToken(user);

    expect(await service.deleteClient(name)).toBe(true);

    expect(await service.getClient(name)).toBeNull();
    for (const set of [a, b, b2]) {
      expect(await service.verifyToken(set.accessToken)).toBeNull();
      expect(await app.tokens.countBy({ id: set.token.id })).toBe(0);
    }
    expect(await service.refreshToken(b.refreshToken)).toBeNull();
    expect(await service.verifyToken(other.accessToken)).not.toBeNull();
    expect(await service.verifyToken(plain.accessToken)).not.toBeNull();
    expect(await service.deleteClient(name)).toBe(false);
    await expect(service.generateHeaderToken(user, { client: name })).rejects.toThrow(
      /unknown client/,
    );
  });

  describe('updateClient', () => {
    it('changes the given fields only, and null clears one', async () => {
      const name = uniqueName('upd');
      const created = await service.createClient({ name, tokenTtl: '1h', throttleRate: '10/m' });
      const updated = await service.updateClient(name, {
        refreshTokenTtl: '7d',
        throttleRate: null,
      });
      expect(updated).toMatchObject({
        id: created.id,
        name,
        tokenTtl: 3600,
        refreshTokenTtl: 7 * 86_400,
        throttleRate: null,
      });
      expect(await service.getClient(name)).toEqual(updated);
    });

    it('applies the new lifetimes to tokens issued afterwards, keeping those of earlier ones', async () => {
      const name = uniqueName('upd');
      await service.createClient({ name, tokenTtl: '1h' });
      const user = await app.createUser();
      const before = await service.generateHeaderToken(user, { client: name });
      await service.updateClient(name, { tokenTtl: '2h' });
      const after = await service.generateHeaderToken(user, { client: name });
      expect(before.accessTokenExpiresAt).toEqual(new Date(START + HOUR));
      expect(after.accessTokenExpiresAt).toEqual(new Date(START + 2 * HOUR));
      expect((await service.verifyToken(before.accessToken))?.expiresAt).toEqual(
        new Date(START + HOUR),
      );
    });

    it('validates as createClient does and changes nothing on a bad field', async () => {
      const name = uniqueName('upd');
      await service.createClient({ name, tokenTtl: '1h' });
      for (const [changes, field] of [
        [{ tokenTtl: 'abc' }, 'tokenTtl'],
        [{ tokenTtl: 0 }, 'tokenTtl'],
        [{ refreshTokenTtl: -1 }, 'refreshTokenTtl'],
        [{ tokenTtl: '2h', throttleRate: '5/x' }, 'throttleRate'],
      ] as const) {
        await expect(service.updateClient(name, changes as never)).rejects.toMatchObject({
          constructor: InvalidClientError,
          field,
        });
      }
      await expect(service.updateClient(name, null as never)).rejects.toThrow(InvalidClientError);
      expect(await service.getClient(name)).toMatchObject({ tokenTtl: 3600, throttleRate: null });
    });

    it('gives null for an unknown client and the client unchanged for no changes', async () => {
      expect(await service.updateClient('no-such-client', { tokenTtl: '1h' })).toBeNull();
      const name = uniqueName('upd');
      const created = await service.createClient({ name, tokenTtl: 60 });
      expect(await service.updateClient(name, {})).toEqual(created);
    });
  });

  it('listClients gives every client by name', async () => {
    const names = [uniqueName('zz-list'), uniqueName('aa-list')];
    for (const name of names) await service.createClient({ name });
    const listed = (await service.listClients()).map((client) => client.name);
    // Ordered by the database's collation: only plain lower-case names are compared here.
    expect(listed.indexOf(names[1])).toBeGreaterThanOrEqual(0);
    expect(listed.indexOf(names[1])).toBeLessThan(listed.indexOf(names[0]));
  });
});
