import { Column, Entity } from 'typeorm';
import { AbstractAuthToken } from '../../lib';
import { describeEachDb } from '../support/databases';
import { DurinTestApp, HOUR, START, startDurinApp } from './support/durin-test-app';

/** An app's own token model with an extra column. */
@Entity('custom_token')
class DeviceToken extends AbstractAuthToken {
  @Column({ name: 'device_name', type: 'varchar', length: 100, nullable: true })
  deviceName?: string | null;
}

describeEachDb('a custom token model (%s)', (kind) => {
  let app: DurinTestApp<DeviceToken>;

  beforeAll(async () => {
    // The shipped migration creates `auth_token`; an app with its own model writes its own
    // migration. Here the schema comes from the entities.
    app = await startDurinApp<DeviceToken>(
      kind,
      { tokenEntity: DeviceToken, tokenTtl: '1h', refreshTokenTtl: '1d' },
      { typeorm: { migrations: [], migrationsRun: false, synchronize: true } },
    );
  });
  afterAll(() => app.close());
  beforeEach(() => app.clock.set(START));

  it('is stored in its own table, and the built-in table is not created', async () => {
    const runner = app.dataSource.createQueryRunner();
    try {
      expect(await runner.hasTable('custom_token')).toBe(true);
      expect(await runner.hasTable('auth_token')).toBe(false);
      expect(await runner.hasColumn('custom_token', 'device_name')).toBe(true);
    } finally {
      await runner.release();
    }
  });

  it('goes through the whole lifecycle with its extra column intact', async () => {
    const user = await app.createUser();
    const set = await app.service.generateHeaderToken(user, { context: { via: 'test' } });
    expect(set.token).toBeInstanceOf(DeviceToken);
    await app.tokens.update(set.token.id, { deviceName: 'Pixel 9' });

    const verified = await app.service.verifyToken(set.accessToken);
    expect(verified).toBeInstanceOf(DeviceToken);
    expect(verified!.deviceName).toBe('Pixel 9');
    expect(verified!.user).toMatchObject({ id: user.id });
    expect(verified!.contextObj.via).toBe('test');

    app.clock.advance(HOUR / 2);
    const authenticated = await app.service.authenticate(set.accessToken, 'header');
    expect(authenticated.ok && authenticated.token.deviceName).toBe('Pixel 9');

    const next = (await app.service.refreshToken(set.refreshToken))!;
    expect(next.token).toBeInstanceOf(DeviceToken);
    expect(await app.service.verifyToken(set.accessToken)).toBeNull();
    expect(await app.service.verifyToken(next.accessToken)).toBeInstanceOf(DeviceToken);
    expect((await app.service.listUserTokens(user)).map((session) => session.id)).toEqual([
      next.token.id,
    ]);

    expect(await app.service.revokeToken(next.token.id)).toBe(true);
    expect(await app.service.verifyToken(next.accessToken)).toBeNull();
    expect(await app.tokens.count()).toBe(0);
  });

  it('is cleaned up by revokeExpiredTokens', async () => {
    const user = await app.createUser();
    await app.service.generateHeaderToken(user, { refreshExpiresIn: null });
    const live = await app.service.generateHeaderToken(user, { accessExpiresIn: '3h' });
    app.clock.set(START + 2 * HOUR);
    expect(await app.service.revokeExpiredTokens()).toBe(1);
    expect((await app.tokens.find()).map((row) => row.id)).toEqual([live.token.id]);
  });
});
