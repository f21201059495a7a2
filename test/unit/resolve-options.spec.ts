import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { AbstractAuthToken } from '../../lib/entities/abstract-auth-token.entity';
import { AuthTokenEntity } from '../../lib/entities/auth-token.entity';
import { DurinConfigurationError } from '../../lib/errors/durin-configuration.error';
import { DurinModuleOptions } from '../../lib/interfaces/durin-module-options.interface';
import { resolveDurinOptions } from '../../lib/options/resolve-options';
import { isUnderRefreshPath } from '../../lib/options/resolve-refresh-cookie';

@Entity('users')
class User {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  email!: string;
}

class NotAToken {
  id!: string;
}

@Entity('custom_token')
class CustomToken extends AbstractAuthToken {}

const PEPPER = 'p'.repeat(16);
const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

/** Options in the shape a JavaScript caller or a config file could produce, types aside. */
type LooseOptions = Record<string, unknown>;

function resolve(options: LooseOptions) {
  return resolveDurinOptions({ userEntity: User, ...options } as DurinModuleOptions);
}

function configurationError(work: () => unknown): DurinConfigurationError {
  try {
    work();
  } catch (error) {
    if (error instanceof DurinConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a DurinConfigurationError, nothing was thrown');
}

describe('resolveDurinOptions', () => {
  const savedNodeEnv = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = savedNodeEnv;
  });

  it('fills in the documented defaults', () => {
    const resolved = resolve({});
    expect(resolved).toMatchObject({
      userEntity: User,
      tokenEntity: AuthTokenEntity,
      dataSource: undefined,
      routes: undefined,
      userIdField: 'id',
      tokenTtlMs: 10 * HOUR,
      refreshTokenTtlMs: 7 * DAY,
      autoRefresh: false,
      autoRefreshIntervalMs: 60 * SECOND,
      autoRefreshMaxTtlMs: 7 * DAY,
      enforceSingleLogin: false,
      enableAuthRestriction: true,
      keepExpiredTokens: false,
      keptTokensRetentionMs: null,
      strictContextAccess: false,
      authHeaderPrefixes: ['bearer', 'token'],
      // The guard reads the auth cookie under the name it is really set with.
      authCookieNames: ['__Host-token'],
      tokenPrefix: 'durin',
      peppers: [],
      postAuthHandler: undefined,
      postAutoRefreshHandler: undefined,
      apiAccessTokenTtlMs: 90 * DAY,
      apiAccessTokenTtlConfigured: false,
      storeTimeoutMs: 5 * SECOND,
    });
    expect(resolved.cookie).toEqual({
      name: '__Host-token',
      secure: true,
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      domain: undefined,
      // `__Host-` needs Path=/, which the refresh cookie must not have.
      refreshName: '__Secure-refresh',
      refreshPath: '/auth/refresh',
    });
  });

  it('treats the default isUserActive as "not explicitly inactive"', () => {
    const { isUserActive } = resolve({});
    expect(isUserActive({ isActive: true })).toBe(true);
    expect(isUserActive({})).toBe(true);
    expect(isUserActive({ isActive: null })).toBe(true);
    expect(isUserActive({ isActive: false })).toBe(false);
  });

  it('converts durations given as seconds or strings, and keeps null as "never"', () => {
    const resolved = resolve({
      tokenTtl: 900,
      refreshTokenTtl: '30d',
      autoRefreshInterval: 0,
      autoRefreshMaxTtl: null,
      storeTimeout: '2s',
    });
    expect(resolved.tokenTtlMs).toBe(900 * SECOND);
    expect(resolved.refreshTokenTtlMs).toBe(30 * DAY);
    expect(resolved.autoRefreshIntervalMs).toBe(0);
    expect(resolved.autoRefreshMaxTtlMs).toBeNull();
    expect(resolved.storeTimeoutMs).toBe(2 * SECOND);
    expect(resolve({ tokenTtl: null, refreshTokenTtl: null })).toMatchObject({
      tokenTtlMs: null,
      refreshTokenTtlMs: null,
    });
  });

  it('takes apiAccessTokenTtl as a duration or null, and remembers that it was given', () => {
    expect(resolve({ apiAccessTokenTtl: '30d' })).toMatchObject({
      apiAccessTokenTtlMs: 30 * DAY,
      apiAccessTokenTtlConfigured: true,
    });
    expect(resolve({ apiAccessTokenTtl: 3600 })).toMatchObject({
      apiAccessTokenTtlMs: HOUR,
      apiAccessTokenTtlConfigured: true,
    });
    expect(resolve({ apiAccessTokenTtl: null })).toMatchObject({
      apiAccessTokenTtlMs: null,
      apiAccessTokenTtlConfigured: true,
    });
    // Independent of tokenTtl: keys are not sessions.
    expect(resolve({ tokenTtl: '15m', refreshTokenTtl: null }).apiAccessTokenTtlMs).toBe(90 * DAY);
  });

  it('keeps the given values and does not share arrays with the caller', () => {
    const peppers = [PEPPER, 'q'.repeat(20)];
    const names = ['sid', 'legacy'];
    const isUserActive = () => true;
    const postAuthHandler = (user: object, token: AbstractAuthToken) => [user, token];
    const resolved = resolve({
      tokenEntity: CustomToken,
      dataSource: 'auth',
      routes: { path: 'auth' },
      userIdField: 'id',
      isUserActive,
      authHeaderPrefixes: ['Bearer', 'DURIN'],
      authCookieNames: names,
      tokenPrefix: 'acme',
      pepper: peppers,
      postAuthHandler,
      keepExpiredTokens: true,
      strictContextAccess: true,
    });
    expect(resolved).toMatchObject({
      tokenEntity: CustomToken,
      dataSource: 'auth',
      routes: { path: 'auth' },
      isUserActive,
      authHeaderPrefixes: ['bearer', 'durin'],
      authCookieNames: ['__Host-sid', 'legacy'],
      tokenPrefix: 'acme',
      peppers,
      postAuthHandler,
      keepExpiredTokens: true,
      strictContextAccess: true,
    });
    expect(resolved.keptTokensRetentionMs).toBeNull();
    peppers.push('z'.repeat(16));
    names.push('x');
    expect(resolved.peppers).toHaveLength(2);
    expect(resolved.authCookieNames).toHaveLength(2);
  });

  it('accepts a single pepper string', () => {
    expect(resolve({ pepper: PEPPER }).peppers).toEqual([PEPPER]);
  });

  describe('a bad option is refused with an error naming it', () => {
    const cases: Array<[string, LooseOptions, string, RegExp]> = [
      ['unknown option', { tokenTTL: '1h' }, 'tokenTTL', /not a nestjs-durin option/],
      ['misspelt option', { autoRefesh: true }, 'autoRefesh', /not a nestjs-durin option/],
      ['missing userEntity', { userEntity: undefined }, 'userEntity', /required/],
      ['userEntity as a string', { userEntity: 'User' }, 'userEntity', /entity class/],
      ['tokenEntity not a token model', { tokenEntity: NotAToken }, 'tokenEntity', /Abstract/],
      ['tokenEntity not a class', { tokenEntity: {} }, 'tokenEntity', /AbstractAuthToken/],
      ['empty dataSource', { dataSource: '' }, 'dataSource', /data source name/],
      ['numeric dataSource', { dataSource: 2 }, 'dataSource', /data source name/],
      ['routes as a string', { routes: 'auth' }, 'routes', /path/],
      ['empty userIdField', { userIdField: '' }, 'userIdField', /non-empty string/],
      ['isUserActive not a function', { isUserActive: true }, 'isUserActive', /function/],
      ['tokenTtl with words', { tokenTtl: '10 hours' }, 'tokenTtl', /'30s', '15m'/],
      ['tokenTtl zero', { tokenTtl: 0 }, 'tokenTtl', /greater than 0/],
      ['tokenTtl negative', { tokenTtl: -60 }, 'tokenTtl', /seconds >= 0/],
      ['tokenTtl too long', { tokenTtl: '999999999d' }, 'tokenTtl', /100 years/],
      ['refreshTokenTtl invalid', { refreshTokenTtl: '1 week' }, 'refreshTokenTtl', /'7d'/],
      [
        'refreshTokenTtl equal to tokenTtl',
        { tokenTtl: '1h', refreshTokenTtl: 3600 },
        'refreshTokenTtl',
        /greater than tokenTtl/,
      ],
      [
        'refreshTokenTtl below tokenTtl',
        { tokenTtl: '1h', refreshTokenTtl: '30m' },
        'refreshTokenTtl',
        /greater than tokenTtl/,
      ],
      [
        'refreshTokenTtl with a never-expiring tokenTtl',
        { tokenTtl: null },
        'refreshTokenTtl',
        /or null to disable/,
      ],
      ['autoRefresh as a string', { autoRefresh: 'yes' }, 'autoRefresh', /true or false/],
      [
        'autoRefreshInterval null',
        { autoRefreshInterval: null },
        'autoRefreshInterval',
        /got null/,
      ],
      [
        'autoRefreshInterval spaced',
        { autoRefreshInterval: '1 m' },
        'autoRefreshInterval',
        /"1 m"/,
      ],
      ['autoRefreshMaxTtl zero', { autoRefreshMaxTtl: 0 }, 'autoRefreshMaxTtl', /greater than 0/],
      ['enforceSingleLogin as 1', { enforceSingleLogin: 1 }, 'enforceSingleLogin', /got 1/],
      [
        'enableAuthRestriction as a string',
        { enableAuthRestriction: 'false' },
        'enableAuthRestriction',
        /true or false/,
      ],
      [
        'keepExpiredTokens.for zero',
        { keepExpiredTokens: { for: 0 } },
        'keepExpiredTokens.for',
        /greater than 0/,
      ],
      ['cleanup true', { cleanup: true }, 'cleanup', /false or \{ every/],
      ['cleanup without every', { cleanup: {} }, 'cleanup', /needs `every`/],
      ['cleanup with an unknown key', { cleanup: { every: '1h', at: 3 } }, 'cleanup', /"at"/],
      ['cleanup.every zero', { cleanup: { every: 0 } }, 'cleanup.every', /at least 1 second/],
      [
        'cleanup.every not a duration',
        { cleanup: { every: 'hourly' } },
        'cleanup.every',
        /"hourly"/,
      ],
      ['keepExpiredTokens null', { keepExpiredTokens: null }, 'keepExpiredTokens', /got null/],
      ['keepExpiredTokens {}', { keepExpiredTokens: {} }, 'keepExpiredTokens', /needs `for`/],
      [
        'keepExpiredTokens with an unknown key',
        { keepExpiredTokens: { for: '1d', forever: true } },
        'keepExpiredTokens',
        /"forever"/,
      ],
      [
        'keepExpiredTokens.for not a duration',
        { keepExpiredTokens: { for: '90 days' } },
        'keepExpiredTokens.for',
        /"90 days"/,
      ],
      ['keepExpiredTokens as a list', { keepExpiredTokens: [] }, 'keepExpiredTokens', /got/],
      [
        'strictContextAccess as a string',
        { strictContextAccess: 'true' },
        'strictContextAccess',
        /true or false/,
      ],
      ['authHeaderPrefixes empty', { authHeaderPrefixes: [] }, 'authHeaderPrefixes', /non-empty/],
      [
        'authHeaderPrefixes as a string',
        { authHeaderPrefixes: 'Bearer' },
        'authHeaderPrefixes',
        /array/,
      ],
      [
        'authHeaderPrefixes with a space',
        { authHeaderPrefixes: ['Bearer x'] },
        'authHeaderPrefixes',
        /"Bearer x" is not a valid auth scheme/,
      ],
      [
        'authCookieNames with a semicolon',
        { authCookieNames: ['a;b'] },
        'authCookieNames',
        /not a valid cookie name/,
      ],
      ['cookie as a string', { cookie: 'yes' }, 'cookie', /object/],
      ['cookie null', { cookie: null }, 'cookie', /object/],
      ['cookie.secure as a string', { cookie: { secure: 'no' } }, 'cookie.secure', /true or false/],
      [
        'cookie.httpOnly as a number',
        { cookie: { httpOnly: 0 } },
        'cookie.httpOnly',
        /true or false/,
      ],
      ['cookie.sameSite unknown', { cookie: { sameSite: 'lenient' } }, 'cookie.sameSite', /'lax'/],
      [
        'cookie.sameSite none without secure',
        { cookie: { sameSite: 'none', secure: false } },
        'cookie.sameSite',
        /requires secure/,
      ],
      ['cookie.path relative', { cookie: { path: 'api' } }, 'cookie.path', /start with '\/'/],
      ['cookie.path with ;', { cookie: { path: '/a;b' } }, 'cookie.path', /start with '\/'/],
      ['cookie.domain with a space', { cookie: { domain: 'a b' } }, 'cookie.domain', /host name/],
      ['cookie.name with =', { cookie: { name: 'a=b' } }, 'cookie.name', /not a valid cookie/],
      [
        'cookie.name __Host- on a sub-path',
        { cookie: { name: '__Host-sid', path: '/api' } },
        'cookie.name',
        /__Host-/,
      ],
      [
        'cookie.name __Host- with a domain',
        { cookie: { name: '__Host-sid', domain: 'example.com' } },
        'cookie.name',
        /no domain/,
      ],
      ['tokenPrefix upper case', { tokenPrefix: 'Durin' }, 'tokenPrefix', /lower-case/],
      ['tokenPrefix with _', { tokenPrefix: 'my_app' }, 'tokenPrefix', /lower-case/],
      ['tokenPrefix empty', { tokenPrefix: '' }, 'tokenPrefix', /non-empty/],
      ['pepper too short', { pepper: 'short' }, 'pepper', /at least 16/],
      ['pepper list empty', { pepper: [] }, 'pepper', /non-empty array/],
      ['pepper list with a short one', { pepper: [PEPPER, 'short'] }, 'pepper', /at least 16/],
      ['pepper as a number', { pepper: 1234567890123456 }, 'pepper', /string/],
      ['postAuthHandler not a function', { postAuthHandler: {} }, 'postAuthHandler', /function/],
      [
        'postAutoRefreshHandler as a string',
        { postAutoRefreshHandler: 'fn' },
        'postAutoRefreshHandler',
        /function/,
      ],
      [
        'apiAccessClientName empty',
        { apiAccessClientName: '' },
        'apiAccessClientName',
        /non-empty/,
      ],
      [
        'apiAccessExcludeFromSessions as a string',
        { apiAccessExcludeFromSessions: 'no' },
        'apiAccessExcludeFromSessions',
        /true or false/,
      ],
      [
        'apiAccessTokenTtl with words',
        { apiAccessTokenTtl: '90 days' },
        'apiAccessTokenTtl',
        /'30s', '15m'/,
      ],
      ['apiAccessTokenTtl zero', { apiAccessTokenTtl: 0 }, 'apiAccessTokenTtl', /null for keys/],
      ['apiAccessTokenTtl negative', { apiAccessTokenTtl: -1 }, 'apiAccessTokenTtl', />= 0/],
      ['apiAccessTokenTtl fractional', { apiAccessTokenTtl: 1.5 }, 'apiAccessTokenTtl', />= 0/],
      [
        'apiAccessTokenTtl as a Date',
        { apiAccessTokenTtl: new Date() },
        'apiAccessTokenTtl',
        /object/,
      ],
      ['storeTimeout zero', { storeTimeout: 0 }, 'storeTimeout', /greater than 0/],
    ];

    it.each(cases)('%s', (_name, options, option, reason) => {
      const error = configurationError(() => resolve(options));
      expect(error.option).toBe(option);
      expect(error.message).toContain(`'${option}'`);
      expect(error.message).toMatch(reason);
      expect(error.name).toBe('DurinConfigurationError');
    });

    it('gives a message of its own to each case', () => {
      const messages = cases.map(
        ([, options]) => configurationError(() => resolve(options)).message,
      );
      expect(new Set(messages).size).toBeGreaterThan(cases.length * 0.8);
      for (const message of messages) {
        expect(message).toMatch(/^nestjs-durin: invalid option '[\w.]+': .{10,}/);
      }
    });

    it('refuses a non-object', () => {
      const error = configurationError(() => resolveDurinOptions(null as never));
      expect(error.option).toBe('options');
    });
  });

  describe('cookie', () => {
    it('refuses secure: false under NODE_ENV=production', () => {
      process.env.NODE_ENV = 'production';
      const error = configurationError(() => resolve({ cookie: { secure: false } }));
      expect(error.option).toBe('cookie.secure');
      expect(error.message).toMatch(/NODE_ENV=production/);
      // Secure cookies are fine in production.
      expect(resolve({}).cookie.secure).toBe(true);
    });

    it('allows secure: false outside production, without the __Host- prefix', () => {
      process.env.NODE_ENV = 'development';
      expect(resolve({ cookie: { secure: false } }).cookie).toMatchObject({
        name: 'token',
        secure: false,
      });
    });

    it.each([
      ['the first cookie name by default', {}, ['token'], '__Host-token'],
      ['a given name', { name: 'sid' }, ['token'], '__Host-sid'],
      ['a name from authCookieNames', {}, ['session', 'old'], '__Host-session'],
      ['a name that already has it', { name: '__Host-sid' }, ['token'], '__Host-sid'],
      ['no prefix with a domain', { domain: 'example.com' }, ['token'], 'token'],
      ['no prefix on a sub-path', { path: '/api' }, ['token'], 'token'],
    ])('prefixes __Host- when allowed: %s', (_name, cookie, authCookieNames, expected) => {
      expect(resolve({ cookie, authCookieNames }).cookie.name).toBe(expected);
    });
  });

  describe('refresh cookie', () => {
    const refreshCookie = (options: LooseOptions) => {
      const { refreshName, refreshPath } = resolve(options).cookie;
      return { refreshName, refreshPath };
    };

    it.each<[string, LooseOptions, { refreshName: string; refreshPath: string }]>([
      ['the defaults', {}, { refreshName: '__Secure-refresh', refreshPath: '/auth/refresh' }],
      [
        'the mounted routes',
        { routes: { path: 'session' } },
        { refreshName: '__Secure-refresh', refreshPath: '/session/refresh' },
      ],
      [
        'routes with slashes, as Nest normalises them',
        { routes: { path: '/api//session/' } },
        { refreshName: '__Secure-refresh', refreshPath: '/api/session/refresh' },
      ],
      [
        'an explicit path beats the routes',
        { routes: { path: 'auth' }, cookie: { refreshPath: '/api/v1/auth/refresh' } },
        { refreshName: '__Secure-refresh', refreshPath: '/api/v1/auth/refresh' },
      ],
      [
        'a given name',
        { cookie: { refreshName: 'rt' } },
        { refreshName: '__Secure-rt', refreshPath: '/auth/refresh' },
      ],
      [
        'a name that already has __Secure-',
        { cookie: { refreshName: '__Secure-rt' } },
        { refreshName: '__Secure-rt', refreshPath: '/auth/refresh' },
      ],
      [
        '__Host- where the path is / anyway',
        { cookie: { refreshName: '__Host-rt', refreshPath: '/' } },
        { refreshName: '__Host-rt', refreshPath: '/' },
      ],
    ])('resolves %s', (_name, options, expected) => {
      expect(refreshCookie(options)).toEqual(expected);
    });

    it.each<[string, string, boolean]>([
      ['/auth/refresh', '/auth/refresh', true],
      ['/auth/refresh?x=1', '/auth/refresh', true],
      ['/auth/refresh/', '/auth/refresh', true],
      ['/api/auth/refresh', '/auth/refresh', false],
      ['/auth/refreshx', '/auth/refresh', false],
      ['/anything', '/', true],
    ])('a request to %s carries a cookie of path %s: %s', (url, path, expected) => {
      expect(isUnderRefreshPath(url, path)).toBe(expected);
    });

    it('has no prefix without secure (development)', () => {
      process.env.NODE_ENV = 'development';
      expect(refreshCookie({ cookie: { secure: false } })).toEqual({
        refreshName: 'refresh',
        refreshPath: '/auth/refresh',
      });
    });

    it.each<[string, LooseOptions, string, RegExp]>([
      ['a name with =', { cookie: { refreshName: 'a=b' } }, 'cookie.refreshName', /valid cookie/],
      ['an empty name', { cookie: { refreshName: '' } }, 'cookie.refreshName', /valid cookie/],
      [
        '__Host- on the refresh path',
        { cookie: { refreshName: '__Host-rt' } },
        'cookie.refreshName',
        /refreshPath '\/'/,
      ],
      [
        '__Secure- without secure',
        { cookie: { refreshName: '__Secure-rt', secure: false } },
        'cookie.refreshName',
        /secure: true/,
      ],
      [
        'the auth cookie name',
        { cookie: { name: 'sid', refreshName: 'sid', secure: false } },
        'cookie.refreshName',
        /differ/,
      ],
      [
        'a name the guard reads',
        { authCookieNames: ['token', '__Secure-legacy'], cookie: { refreshName: 'legacy' } },
        'cookie.refreshName',
        /differ/,
      ],
      [
        'the CSRF cookie name',
        { cookie: { refreshName: 'csrf', secure: false } },
        'csrf.cookieName',
        /differ/,
      ],
      [
        'a relative path',
        { cookie: { refreshPath: 'auth/refresh' } },
        'cookie.refreshPath',
        /'\/'/,
      ],
      ['a path with ;', { cookie: { refreshPath: '/a;b' } }, 'cookie.refreshPath', /';'/],
      ['a path as a number', { cookie: { refreshPath: 1 } }, 'cookie.refreshPath', /string/],
      ['routes.path with a space', { routes: { path: 'a b' } }, 'routes.path', /spaces/],
    ])('refuses %s', (_name, options, option, message) => {
      process.env.NODE_ENV = 'development';
      const error = configurationError(() => resolve(options));
      expect(error.option).toBe(option);
      expect(error.message).toMatch(message);
    });
  });
});

describe('durations from configuration (typed as plain string)', () => {
  // `config.get<string>('TOKEN_TTL')` hands a `string`; this must compile under `strict` (it failed
  // with TS2322 while Duration only admitted template literals) and still be checked at boot.
  const fromConfig = (value: string): string => value;

  it('accepts a string-typed duration and parses it', () => {
    const options: DurinModuleOptions = {
      userEntity: User,
      tokenTtl: fromConfig('10h'),
      refreshTokenTtl: fromConfig('7d'),
      autoRefreshInterval: fromConfig('1m'),
      storeTimeout: fromConfig('5s'),
      cache: { ttl: fromConfig('5s') },
    };
    expect(resolveDurinOptions(options)).toMatchObject({
      tokenTtlMs: 10 * HOUR,
      refreshTokenTtlMs: 7 * DAY,
    });
  });

  it('still refuses a bad string at boot, naming the option', () => {
    const options: DurinModuleOptions = { userEntity: User, tokenTtl: fromConfig('ten hours') };
    expect(configurationError(() => resolveDurinOptions(options)).option).toBe('tokenTtl');
  });
});

describe('keepExpiredTokens with a retention', () => {
  it.each([
    [{ for: '90d' }, 90 * DAY],
    [{ for: 3600 }, HOUR],
    [{ for: null }, null],
  ])('%j keeps rows and resolves the retention to %p ms', (keepExpiredTokens, retention) => {
    const resolved = resolveDurinOptions({ userEntity: User, keepExpiredTokens });
    expect(resolved.keepExpiredTokens).toBe(true);
    expect(resolved.keptTokensRetentionMs).toBe(retention);
  });
});

describe('cleanup', () => {
  it('is off by default', () => {
    expect(resolveDurinOptions({ userEntity: User }).cleanup).toBeNull();
    expect(resolveDurinOptions({ userEntity: User, cleanup: false }).cleanup).toBeNull();
  });

  it.each([
    ['1h', { everyMs: HOUR, firstRunMs: 30 * SECOND }],
    ['5s', { everyMs: 5 * SECOND, firstRunMs: 5 * SECOND }],
  ])('every %s runs first soon after start-up, then at that interval', (every, expected) => {
    expect(resolveDurinOptions({ userEntity: User, cleanup: { every } }).cleanup).toEqual(expected);
  });
});
