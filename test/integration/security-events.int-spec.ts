import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { DURIN_EVENT_TYPES, DurinEvent, durinEventName, TokenSet } from '../../lib';
import { resolveDurinOptions } from '../../lib/options/resolve-options';
import { describeEachDb } from '../support/databases';
import { DurinTestApp, HOUR, MINUTE, SECOND, START, startDurinApp } from './support/durin-test-app';

/** Collects `durin.*` events the way an application would, with `@OnEvent`. */
@Injectable()
class AuditListener {
  readonly received: DurinEvent[] = [];

  @OnEvent('durin.*')
  onDurinEvent(event: DurinEvent): void {
    this.received.push(event);
  }
}

/**
 * Events (issue 4): every lifecycle step emits a namespaced event through `@nestjs/event-emitter`
 * and the `onEvent` option, without secrets (REQ-STO-05, REQ-LOG-01); listeners never break
 * authentication.
 */
describeEachDb('events (%s)', (kind) => {
  let app: DurinTestApp;
  let audit: AuditListener;
  const viaOption: DurinEvent[] = [];
  /** Every raw token and hash issued in this suite, to grep the events for. */
  const secrets: string[] = [];

  beforeAll(async () => {
    app = await startDurinApp(
      kind,
      {
        tokenTtl: '1h',
        refreshTokenTtl: '1d',
        autoRefresh: true,
        autoRefreshInterval: '1m',
        maxSessionsPerUser: 2,
        onEvent: (event) => {
          viaOption.push(event);
        },
      },
      {
        imports: [
          EventEmitterModule.forRoot({ wildcard: true }),
          {
            module: class AuditModule {},
            providers: [AuditListener],
            exports: [AuditListener],
          },
        ],
      },
    );
    audit = app.module.get(AuditListener);
  });
  afterAll(() => app.close());

  beforeEach(() => {
    app.clock.set(START);
    viaOption.length = 0;
    audit.received.length = 0;
  });

  async function remember(set: TokenSet): Promise<TokenSet> {
    secrets.push(set.accessToken);
    if (set.refreshToken !== null) secrets.push(set.refreshToken);
    const row = await app.tokens.findOneByOrFail({ id: set.token.id });
    secrets.push(row.tokenHash);
    if (row.refreshTokenHash !== null) secrets.push(row.refreshTokenHash);
    return set;
  }

  const types = (events: DurinEvent[]) => events.map((event) => `${event.type}:${event.reason}`);

  it('REQ-LOG-01: a full lifecycle emits each event once, on both channels, with its facts', async () => {
    await app.service.createClient({ name: 'web' });
    const user = await app.createUser();
    const login = await remember(await app.service.generateCookieToken(user, { client: 'web' }));
    expect(viaOption).toEqual([
      {
        type: 'token_created',
        tokenId: login.token.id,
        familyId: login.token.familyId,
        userId: user.id,
        authType: 'cookie',
        client: 'web',
        reason: null,
        occurredAt: new Date(START),
      },
    ]);

    app.clock.advance(2 * MINUTE);
    expect((await app.service.authenticate(login.accessToken, 'cookie')).ok).toBe(true);
    const rotated = await remember((await app.service.refreshToken(login.refreshToken))!);
    await app.service.refreshToken(login.refreshToken); // a racing tab, within the grace window
    await app.service.renewToken(rotated.token);
    app.clock.advance(HOUR + MINUTE);
    await app.service.verifyToken(rotated.accessToken); // presented after expiry
    await app.service.revokeToken(rotated.token.id);

    expect(types(viaOption)).toEqual([
      'token_created:null',
      'token_auto_refreshed:null',
      'token_refreshed:rotation',
      'token_refreshed:grace_replay',
      'token_refreshed:renew',
      'token_expired:access_expired',
      'token_revoked:logout',
    ]);
    for (const event of viaOption.slice(2)) {
      expect(event).toMatchObject({
        tokenId: rotated.token.id,
        familyId: login.token.familyId,
        userId: user.id,
        authType: 'cookie',
        client: 'web',
      });
    }
    // The same events, as `durin.<type>`, on @nestjs/event-emitter.
    expect(audit.received).toEqual(viaOption);
  });

  it('REQ-LOG-01: reuse emits one refresh_reuse_detected with family and user id', async () => {
    const user = await app.createUser();
    const r1 = await remember(await app.service.generateHeaderToken(user));
    await remember((await app.service.refreshToken(r1.refreshToken))!);
    app.clock.advance(11 * SECOND);
    viaOption.length = 0;
    expect(await app.service.refreshToken(r1.refreshToken)).toBeNull();
    expect(viaOption).toEqual([
      expect.objectContaining({
        type: 'refresh_reuse_detected',
        familyId: r1.token.familyId,
        userId: user.id,
        reason: 'reuse_detected',
      }),
    ]);
  });

  it('logout_all, session_limit, revokeUserSession and expireToken events', async () => {
    const user = await app.createUser();
    const a = await remember(await app.service.generateHeaderToken(user));
    app.clock.advance(SECOND); // "oldest" is by login time
    const b = await remember(await app.service.generateHeaderToken(user));
    app.clock.advance(SECOND);
    await remember(await app.service.generateHeaderToken(user)); // limit 2: ends `a`
    await app.service.revokeUserSession(user, b.token.id);
    const d = await remember(await app.service.generateHeaderToken(user));
    await app.service.expireToken(d.token);
    await app.service.revokeAllUserTokens(user.id);

    expect(types(viaOption)).toEqual([
      'token_created:null',
      'token_created:null',
      'token_revoked:session_limit',
      'token_created:null',
      'token_revoked:revoked',
      'token_created:null',
      'token_expired:expire_token',
      'logout_all:logout_all',
    ]);
    expect(viaOption[2]).toMatchObject({ tokenId: a.token.id, familyId: a.token.familyId });
    expect(viaOption[4]).toMatchObject({ tokenId: b.token.id, userId: user.id });
    expect(viaOption[7]).toMatchObject({ tokenId: null, familyId: null, userId: user.id });
  });

  it('REQ-STO-05: no event carries a raw token or a hash', () => {
    // Runs after the tests above, which filled `secrets` and both event logs.
    expect(secrets.length).toBeGreaterThan(10);
    const dump = JSON.stringify([...viaOption, ...audit.received]);
    for (const secret of secrets) {
      expect(dump).not.toContain(secret);
    }
    // Nor anything derived from one: every value is an id, a name, a reason or a date.
    for (const event of [...viaOption, ...audit.received]) {
      expect(Object.keys(event).sort()).toEqual(
        [
          'authType',
          'client',
          'familyId',
          'occurredAt',
          'reason',
          'tokenId',
          'type',
          'userId',
        ].sort(),
      );
    }
  });

  it('lists every event type and its namespaced name', () => {
    expect(DURIN_EVENT_TYPES.map(durinEventName)).toEqual([
      'durin.token_created',
      'durin.token_refreshed',
      'durin.token_auto_refreshed',
      'durin.token_revoked',
      'durin.token_expired',
      'durin.refresh_reuse_detected',
      'durin.logout_all',
      'durin.expired_tokens_cleaned',
    ]);
  });
});

describeEachDb('failing event listeners (%s)', (kind) => {
  let app: DurinTestApp;
  let errors: jest.SpyInstance;
  let mode: 'throw' | 'reject' = 'throw';

  beforeAll(async () => {
    app = await startDurinApp(
      kind,
      {
        autoRefresh: true,
        autoRefreshInterval: '1m',
        onEvent: () => {
          if (mode === 'throw') throw new Error('listener exploded');
          return Promise.reject(new Error('listener rejected'));
        },
      },
      { imports: [EventEmitterModule.forRoot()] },
    );
    const emitter = app.module.get(EventEmitter2);
    emitter.on('durin.token_created', () => {
      throw new Error('emitter listener exploded');
    });
    emitter.on('durin.token_auto_refreshed', async () => {
      throw new Error('async emitter listener rejected');
    });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => errors.mockRestore());

  it.each(['throw', 'reject'] as const)(
    'a listener that %ss breaks neither login, authentication nor refresh',
    async (how) => {
      mode = how;
      app.clock.set(START);
      const set = await app.service.generateHeaderToken(await app.createUser());
      app.clock.advance(2 * MINUTE);
      expect(await app.service.authenticate(set.accessToken, 'header')).toMatchObject({
        ok: true,
        autoRefreshed: true,
      });
      const next = await app.service.refreshToken(set.refreshToken);
      expect(next).not.toBeNull();
      expect(await app.service.revokeToken(next!.token)).toBe(true);
      // Rejections are reported asynchronously.
      await new Promise((resolve) => setImmediate(resolve));

      const logged = errors.mock.calls.map((call) => String(call[0]));
      expect(logged).toContain(
        `a listener of durin.token_created failed: Error: ${how === 'throw' ? 'listener exploded' : 'listener rejected'}`,
      );
      expect(logged).toContain(
        'a listener of durin.token_created failed: Error: emitter listener exploded',
      );
      expect(logged).toContain(
        'a listener of durin.token_auto_refreshed failed: Error: async emitter listener rejected',
      );
      for (const line of logged) {
        for (const secret of [set.accessToken, set.refreshToken!, next!.accessToken]) {
          expect(line).not.toContain(secret);
        }
      }
    },
  );
});

describe('onEvent validation', () => {
  class U {}
  it.each(['log', {}, true])('refuses onEvent %p', (value) => {
    expect(() => resolveDurinOptions({ userEntity: U, onEvent: value as never })).toThrow(
      expect.objectContaining({ option: 'onEvent' }),
    );
  });
});

describe('events without @nestjs/event-emitter in the app', () => {
  it('go to onEvent only, and a module with neither emits nothing and works', async () => {
    const received: DurinEvent[] = [];
    const withListener = await startDurinApp('sqlite', {
      onEvent: (event) => received.push(event),
    });
    const bare = await startDurinApp('sqlite');
    try {
      const user = await withListener.createUser();
      await withListener.service.generateHeaderToken(user);
      expect(received.map((event) => event.type)).toEqual(['token_created']);
      const other = await bare.createUser();
      const set = await bare.service.generateHeaderToken(other);
      expect(await bare.service.verifyToken(set.accessToken)).not.toBeNull();
    } finally {
      await withListener.close();
      await bare.close();
    }
  });
});
