import { readSettings, SettingsError } from '../../sample-app/src/config/settings';

describe('sample app settings: CORS_ORIGINS', () => {
  it('is empty by default (same-origin only)', () => {
    expect(readSettings({}).corsOrigins).toEqual([]);
  });

  it('lists origins, comma-separated, a trailing slash tolerated', () => {
    expect(
      readSettings({ CORS_ORIGINS: 'http://localhost:5173, https://app.example.com/' }).corsOrigins,
    ).toEqual(['http://localhost:5173', 'https://app.example.com']);
  });

  it.each(['*', 'localhost:5173', 'https://app.example.com/path', 'ftp://files.example.com'])(
    'refuses %j at start-up, naming the variable',
    (value) => {
      expect(() => readSettings({ CORS_ORIGINS: value })).toThrow(SettingsError);
      expect(() => readSettings({ CORS_ORIGINS: value })).toThrow(/CORS_ORIGINS/);
    },
  );
});
