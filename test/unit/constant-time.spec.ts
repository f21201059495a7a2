import { constantTimeEqual } from '../../lib/tokens/constant-time';

describe('constantTimeEqual', () => {
  it.each([
    ['', '', true],
    ['a', 'a', true],
    ['durin_at_abc', 'durin_at_abc', true],
    ['a', 'b', false],
    ['abc', 'abd', false],
    ['xbc', 'abc', false],
  ])('%j vs %j -> %s', (a, b, expected) => {
    expect(constantTimeEqual(a, b)).toBe(expected);
  });

  it.each([
    ['a', 'aa'],
    ['aa', 'a'],
    ['', 'a'],
    ['é', 'e'],
    ['token', 'token '],
  ])('different lengths (%j vs %j) give false instead of throwing', (a, b) => {
    expect(() => constantTimeEqual(a, b)).not.toThrow();
    expect(constantTimeEqual(a, b)).toBe(false);
  });

  it('compares UTF-8 bytes: same string length but different byte length is false, not a throw', () => {
    expect(() => constantTimeEqual('é', 'a')).not.toThrow();
    expect(constantTimeEqual('é', 'a')).toBe(false);
    expect(constantTimeEqual('éa', 'ab')).toBe(false);
    expect(constantTimeEqual('é', 'é')).toBe(true);
  });
});
