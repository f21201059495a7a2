import { apiKeyAccessTtlMs } from '../../lib/api-keys/api-keys';

const DAY = 24 * 3600 * 1000;

/** Which lifetime a new personal API key gets (see `apiAccessTokenTtl`). */
describe('apiKeyAccessTtlMs', () => {
  const byDefault = { apiAccessTokenTtlMs: 90 * DAY, apiAccessTokenTtlConfigured: false };

  it('gives the default when neither the option nor the client says otherwise', () => {
    expect(apiKeyAccessTtlMs(byDefault, { tokenTtl: null })).toBe(90 * DAY);
  });

  it('keeps a tokenTtl the app gave the client row while the option is left at its default', () => {
    expect(apiKeyAccessTtlMs(byDefault, { tokenTtl: 30 * 86400 })).toBe(30 * DAY);
  });

  it('lets an explicit option win over the client row, "never" included', () => {
    const sevenDays = { apiAccessTokenTtlMs: 7 * DAY, apiAccessTokenTtlConfigured: true };
    expect(apiKeyAccessTtlMs(sevenDays, { tokenTtl: 30 * 86400 })).toBe(7 * DAY);
    const never = { apiAccessTokenTtlMs: null, apiAccessTokenTtlConfigured: true };
    expect(apiKeyAccessTtlMs(never, { tokenTtl: 30 * 86400 })).toBeNull();
    expect(apiKeyAccessTtlMs(never, { tokenTtl: null })).toBeNull();
  });
});
