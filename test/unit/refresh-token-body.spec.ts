import 'reflect-metadata';
import { DurinHttpException } from '../../lib';
import { parseRefreshTokenBody, RefreshTokenDto } from '../../lib/routes/refresh-token.dto';

const TOKEN = `durin_rt_${'A'.repeat(49)}`;

function refusal(body: unknown): { status: number; code: string; message: string } {
  try {
    parseRefreshTokenBody(body);
  } catch (error) {
    expect(error).toBeInstanceOf(DurinHttpException);
    const http = error as DurinHttpException;
    return {
      status: http.getStatus(),
      code: http.code,
      message: (http.getResponse() as { message: string }).message,
    };
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe('parseRefreshTokenBody', () => {
  it('accepts { refreshToken } and returns the DTO', () => {
    const dto = parseRefreshTokenBody({ refreshToken: TOKEN });
    expect(dto).toBeInstanceOf(RefreshTokenDto);
    expect(dto).toEqual({ refreshToken: TOKEN });
  });

  it.each<[string, unknown]>([
    ['no body', undefined],
    ['an empty object', {}],
  ])('%s: no token, for the refresh cookie to provide', (_name, body) => {
    expect(parseRefreshTokenBody(body)).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string (text/plain)', TOKEN],
    ['a number', 42],
    ['an array', [{ refreshToken: TOKEN }]],
  ])('400 invalid_request for %s, without looking inside', (_name, body) => {
    expect(refusal(body)).toEqual({
      status: 400,
      code: 'invalid_request',
      message: 'The body must be { "refreshToken": string }, or empty to use the refresh cookie.',
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['a number', { refreshToken: 123 }, /refreshToken must be a string/],
    ['an empty string', { refreshToken: '' }, /refreshToken should not be empty/],
    ['256 characters', { refreshToken: 'a'.repeat(256) }, /shorter than or equal to 255/],
    ['an unknown field', { refreshToken: TOKEN, isAdmin: true }, /property isAdmin should not/],
    ['an unknown field alone', { isAdmin: true }, /property isAdmin should not/],
    ['snake case', { refresh_token: TOKEN }, /property refresh_token should not exist/],
  ])('400 invalid_request naming the rule for %s', (_name, body, message) => {
    expect(refusal(body)).toEqual({
      status: 400,
      code: 'invalid_request',
      message: expect.stringMatching(message),
    });
  });

  it('a JSON "__proto__" key is an unknown field and reaches no prototype', () => {
    const body: unknown = JSON.parse(
      `{"__proto__": {"polluted": true}, "refreshToken": "${TOKEN}"}`,
    );
    expect(() => parseRefreshTokenBody(body)).toThrow(DurinHttpException);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    const dto = parseRefreshTokenBody({ refreshToken: TOKEN });
    expect(Object.getPrototypeOf(dto)).toBe(RefreshTokenDto.prototype);
  });

  it('refuses a deeply nested body without walking it (no stack overflow)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i += 1) deep = { a: deep };
    for (const body of [{ refreshToken: TOKEN, a: deep }, { refreshToken: deep }]) {
      expect(() => parseRefreshTokenBody(body)).toThrow(DurinHttpException);
    }
  });

  it('names at most a few unknown fields, each cut short', () => {
    const body = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`${'x'.repeat(500)}${i}`, 1]),
    );
    try {
      parseRefreshTokenBody(body);
      throw new Error('expected a 400');
    } catch (error) {
      const message = ((error as DurinHttpException).getResponse() as { message: string }).message;
      expect(message.split('; ')).toHaveLength(5);
      expect(message.length).toBeLessThan(500);
    }
  });
});
