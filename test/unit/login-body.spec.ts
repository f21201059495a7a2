import { DurinHttpException } from '../../lib';
import {
  LOGIN_CONTEXT_KEY_MAX,
  LOGIN_CONTEXT_MAX_KEYS,
  LOGIN_CONTEXT_VALUE_MAX,
  LOGIN_PASSWORD_MAX,
  LOGIN_USERNAME_MAX,
  parseLoginBody,
} from '../../lib/routes/login-body';

/** The body of `POST <path>/login`, checked before anything is looked up. */

const VALID = { username: 'ada', password: 'pw', client: 'web' };
const HOSTILE = '<script>x</script>';

function refusal(body: unknown): { code: string; message: string } {
  try {
    parseLoginBody(body);
  } catch (error) {
    expect(error).toBeInstanceOf(DurinHttpException);
    const response = (error as DurinHttpException).getResponse() as {
      code: string;
      message: string;
      statusCode: number;
    };
    expect(response.statusCode).toBe(400);
    return response;
  }
  throw new Error('accepted');
}

describe('parseLoginBody', () => {
  it('accepts the credentials and an optional flat context', () => {
    expect(parseLoginBody(VALID)).toEqual({ ...VALID, context: {} });
    const context = { device: 'iPhone', build: 42, beta: false, note: null };
    expect(parseLoginBody({ ...VALID, context })).toEqual({ ...VALID, context });
  });

  it('accepts the limits themselves', () => {
    const body = {
      username: 'u'.repeat(LOGIN_USERNAME_MAX),
      password: 'p'.repeat(LOGIN_PASSWORD_MAX),
      client: 'c'.repeat(64),
      context: Object.fromEntries(
        Array.from({ length: LOGIN_CONTEXT_MAX_KEYS }, (_, i) => [
          `${i}`.padEnd(LOGIN_CONTEXT_KEY_MAX, 'k'),
          'v'.repeat(LOGIN_CONTEXT_VALUE_MAX),
        ]),
      ),
    };
    expect(parseLoginBody(body)).toEqual(body);
  });

  it('passes the password on untouched (spaces, unicode, control characters)', () => {
    const password = ' pä\tss\u0000 ';
    expect(parseLoginBody({ ...VALID, password }).password).toBe(password);
  });

  it.each([undefined, null, '', 'a string', 42, [], [VALID]])('refuses the body %p', (body) => {
    expect(refusal(body).code).toBe('invalid_request');
  });

  it.each([{ client: undefined }, { client: null }, { client: '' }])(
    'answers client_missing for %p',
    (fields) => {
      const body: Record<string, unknown> = { ...VALID, ...fields };
      if (fields.client === undefined) delete body.client;
      expect(refusal(body).code).toBe('client_missing');
    },
  );

  it.each([
    ['username', 1],
    ['username', ''],
    ['username', 'u'.repeat(LOGIN_USERNAME_MAX + 1)],
    ['username', 'a\u0000b'],
    ['username', 'a\nb'],
    ['username', '\ud800'],
    ['username', ['ada']],
    ['password', undefined],
    ['password', ''],
    ['password', 'p'.repeat(LOGIN_PASSWORD_MAX + 1)],
    ['password', { $gt: '' }],
    ['password', 123456],
    ['client', 7],
    ['client', ['web']],
    ['client', 'c'.repeat(65)],
    ['context', 'device=iPhone'],
    ['context', null],
    ['context', ['iPhone']],
    ['context', { nested: { deep: 1 } }],
    ['context', { list: [1] }],
    ['context', { n: Number.NaN }],
    ['context', { long: 'v'.repeat(LOGIN_CONTEXT_VALUE_MAX + 1) }],
    ['context', { ['k'.repeat(LOGIN_CONTEXT_KEY_MAX + 1)]: 1 }],
    ['context', { 'bad\u0000key': 1 }],
    [
      'context',
      Object.fromEntries(
        Array.from({ length: LOGIN_CONTEXT_MAX_KEYS + 1 }, (_, i) => [`k${i}`, i]),
      ),
    ],
  ])('refuses %s = %p with invalid_request', (field, value) => {
    expect(refusal({ ...VALID, [field]: value }).code).toBe('invalid_request');
  });

  it('a client with a control character is left to the lookup (unknown_client there)', () => {
    expect(parseLoginBody({ ...VALID, client: 'we\u0000b' }).client).toBe('we\u0000b');
  });

  it('refuses unknown fields, naming a few of them, never quoting a value', () => {
    const { code, message } = refusal({ ...VALID, remember: HOSTILE, grant_type: 'password' });
    expect(code).toBe('invalid_request');
    expect(message).toContain('remember');
    expect(message).toContain('grant_type');
    expect(message).not.toContain('script');
    expect(refusal({ ...VALID, username: HOSTILE.repeat(30) }).message).not.toContain('script');
  });

  it('keeps a __proto__ key a plain key of the context, reaching no prototype', () => {
    const body = JSON.parse(
      '{"username":"a","password":"p","client":"web","context":{"__proto__":"x","polluted":true}}',
    ) as unknown;
    const { context } = parseLoginBody(body);
    expect(Object.getPrototypeOf(context)).toBe(Object.prototype);
    expect(Object.keys(context).sort()).toEqual(['__proto__', 'polluted']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses __proto__ at the top level as an unknown field', () => {
    const body = JSON.parse('{"username":"a","password":"p","client":"web","__proto__":{}}');
    expect(refusal(body).code).toBe('invalid_request');
  });
});
