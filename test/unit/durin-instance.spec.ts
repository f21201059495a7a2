import {
  AuthCookieService,
  AuthGuard,
  DEFAULT_DURIN_INSTANCE,
  DURIN_RESOLVED_OPTIONS,
  DurinAuthGuard,
  DurinConfigurationError,
  DurinModule,
  getAuthCookieServiceToken,
  getDurinOptionsToken,
  getTokenServiceToken,
  TokenService,
} from '../../lib';

class Admin {
  id!: number;
}

describe('named instance tokens', () => {
  it('are the classes themselves for the default instance, however it is named', () => {
    for (const name of [undefined, DEFAULT_DURIN_INSTANCE]) {
      expect(getTokenServiceToken(name)).toBe(TokenService);
      expect(getAuthCookieServiceToken(name)).toBe(AuthCookieService);
      expect(getDurinOptionsToken(name)).toBe(DURIN_RESOLVED_OPTIONS);
      expect(AuthGuard.for(name)).toBe(AuthGuard);
    }
  });

  it('differ per name, and from the default', () => {
    const tokens = ['admin', 'staff'].map(getTokenServiceToken);
    expect(new Set([...tokens, TokenService]).size).toBe(3);
    expect(getTokenServiceToken('admin')).toBe(getTokenServiceToken('admin'));
  });

  it('give one guard class per name, a subclass of the guard it was asked on', () => {
    const admin = DurinAuthGuard.for('admin');
    expect(AuthGuard.for('admin')).toBe(admin);
    expect(admin).not.toBe(AuthGuard);
    expect(admin.prototype).toBeInstanceOf(AuthGuard);
    expect(AuthGuard.for('staff')).not.toBe(admin);
  });

  it.each(['', ' admin', 'a:b', '1admin', 'x'.repeat(65)])('refuse the name %j', (name) => {
    expect(() => getTokenServiceToken(name)).toThrow(DurinConfigurationError);
    expect(() => DurinModule.forRoot({ name, userEntity: Admin })).toThrow(DurinConfigurationError);
  });

  it('need the user entity next to the name', () => {
    expect(() => DurinModule.forRootAsync({ name: 'admin', useFactory: () => ({}) })).toThrow(
      /userEntity/,
    );
  });
});
