import { DurinConfigurationError } from '../../lib/errors/durin-configuration.error';
import { parseDuration, parseNullableDuration, tryParseDuration } from '../../lib/options/duration';

const SECOND = 1000;
const DAY = 86_400 * SECOND;

describe('duration parsing', () => {
  it.each([
    [0, 0],
    [1, SECOND],
    [90, 90 * SECOND],
    [86_400, DAY],
    ['0s', 0],
    ['30s', 30 * SECOND],
    ['15m', 15 * 60 * SECOND],
    ['10h', 10 * 3600 * SECOND],
    ['7d', 7 * DAY],
    ['007d', 7 * DAY],
    ['36500d', 36_500 * DAY],
  ])('%j is %d ms', (input, expected) => {
    expect(tryParseDuration(input)).toBe(expected);
    expect(parseDuration(input, 'tokenTtl')).toBe(expected);
  });

  it.each([
    ['a negative number', -1],
    ['a fraction', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['an unsafe integer', 2 ** 53],
    ['a number string without unit', '10'],
    ['an empty string', ''],
    ['a unit alone', 'h'],
    ['a decimal', '1.5h'],
    ['a leading space', ' 1h'],
    ['a trailing space', '1h '],
    ['a space before the unit', '1 h'],
    ['an upper-case unit', '1H'],
    ['weeks', '2w'],
    ['milliseconds', '100ms'],
    ['two units', '1h30m'],
    ['a sign', '-1s'],
    ['a plus sign', '+1s'],
    ['exponent notation', '1e3s'],
    ['hex', '0x10s'],
    ['full-width digits', '１h'],
    ['ten digits', '1000000000s'],
    ['a word', 'forever'],
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
    ['a bigint', 10n],
    ['an object', { seconds: 10 }],
    ['an array', ['1h']],
    ['a Date', new Date()],
  ])('rejects %s', (_name, input) => {
    expect(tryParseDuration(input)).toBeUndefined();
    expect(() => parseDuration(input, 'tokenTtl')).toThrow(DurinConfigurationError);
  });

  it.each([
    ['seconds', 100 * 366 * 86_400],
    ['a day string', '36600d'],
    ['the largest string', '999999999d'],
  ])('rejects more than 100 years given as %s (no Date could hold the expiry)', (_name, input) => {
    expect(tryParseDuration(input)).toBeUndefined();
    expect(() => parseDuration(input, 'tokenTtl')).toThrow(/at most 100 years/);
  });

  it('names the option and shows the bad value in the error', () => {
    let caught: unknown;
    try {
      parseDuration('10 hours', 'autoRefreshInterval');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DurinConfigurationError);
    expect((caught as DurinConfigurationError).option).toBe('autoRefreshInterval');
    expect((caught as Error).message).toContain("'autoRefreshInterval'");
    expect((caught as Error).message).toContain('"10 hours"');
  });

  it('shortens a very long bad value in the message', () => {
    expect(() => parseDuration('9'.repeat(1000), 'tokenTtl')).toThrow(/"9{40}…"/);
  });

  it('passes null through as "never" only where null is allowed', () => {
    expect(parseNullableDuration(null, 'tokenTtl')).toBeNull();
    expect(parseNullableDuration('1m', 'tokenTtl')).toBe(60 * SECOND);
    expect(() => parseNullableDuration(undefined, 'tokenTtl')).toThrow(DurinConfigurationError);
    expect(() => parseDuration(null, 'autoRefreshInterval')).toThrow(DurinConfigurationError);
  });
});
