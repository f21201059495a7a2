import { AuthTokenEntity } from '../../lib/entities/auth-token.entity';
import {
  createContextView,
  isPlainContext,
  MissingContextKeyError,
  TokenContextData,
} from '../../lib/entities/token-context';

function tokenWith(context: TokenContextData, strict: boolean): AuthTokenEntity {
  const token = new AuthTokenEntity();
  token.context = context;
  token.strictContextAccess = strict;
  return token;
}

describe('token context', () => {
  const data = (): TokenContextData => ({
    device: 'phone',
    ip: '203.0.113.7',
    trusted: false,
    nothing: null,
    tags: ['a', 'b'],
    geo: { country: 'FI' },
  });

  describe('contextObj', () => {
    it('reads the stored values', () => {
      const view = tokenWith(data(), false).contextObj;
      expect(view.device).toBe('phone');
      expect(view.trusted).toBe(false);
      expect(view.nothing).toBeNull();
      expect(view.tags).toEqual(['a', 'b']);
      expect(view.geo).toEqual({ country: 'FI' });
      expect(Object.keys(view)).toEqual(['device', 'ip', 'trusted', 'nothing', 'tags', 'geo']);
    });

    it('gives undefined for a missing key by default', () => {
      expect(tokenWith(data(), false).contextObj.missing).toBeUndefined();
    });

    it('throws MissingContextKeyError for a missing key with strictContextAccess', () => {
      const view = tokenWith(data(), true).contextObj;
      expect(view.device).toBe('phone');
      expect(view.nothing).toBeNull();
      let caught: unknown;
      try {
        void view.missing;
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(MissingContextKeyError);
      expect((caught as MissingContextKeyError).key).toBe('missing');
      expect((caught as Error).message).toContain('"missing"');
    });

    it('stays usable by await, JSON and inspection under strictContextAccess', async () => {
      const view = tokenWith({ device: 'phone' }, true).contextObj;
      expect(JSON.stringify(view)).toBe('{"device":"phone"}');
      await expect(Promise.resolve(view)).resolves.toBe(view);
      expect(String(view)).toBe('[object Object]');
    });

    it('is empty (not a crash) when the token has no context', () => {
      const token = new AuthTokenEntity();
      expect(token.contextObj.device).toBeUndefined();
    });

    it.each([false, true])('refuses writes and deletes (strict: %s)', (strict) => {
      const token = tokenWith(data(), strict);
      const view = token.contextObj as Record<string, unknown>;
      expect(() => {
        view.device = 'laptop';
      }).toThrow(TypeError);
      expect(() => {
        view.added = 1;
      }).toThrow(TypeError);
      expect(() => {
        delete view.device;
      }).toThrow(TypeError);
      expect(token.context.device).toBe('phone');
      expect(token.context).not.toHaveProperty('added');
    });

    it('refuses writes to nested values too, and the stored context is unchanged', () => {
      const token = tokenWith(data(), false);
      const view = token.contextObj as { tags: string[]; geo: Record<string, string> };
      expect(() => {
        view.geo.country = 'SE';
      }).toThrow(TypeError);
      expect(() => view.tags.push('c')).toThrow(TypeError);
      expect(token.context.geo).toEqual({ country: 'FI' });
      expect(token.context.tags).toEqual(['a', 'b']);
    });

    it('is a snapshot: changing the view source afterwards is not visible, and vice versa', () => {
      const source = data();
      const view = createContextView(source, false);
      source.device = 'laptop';
      expect(view.device).toBe('phone');
    });
  });

  describe('isPlainContext', () => {
    class Custom {
      device = 'phone';
    }
    const circular: Record<string, unknown> = {};
    circular.self = circular;

    it.each([
      ['an empty object', {}],
      ['a flat object', { device: 'phone', n: 1, ok: true, none: null }],
      ['a nested object', { geo: { country: 'FI' }, tags: ['a'] }],
      ['a null-prototype object', Object.assign(Object.create(null), { a: 1 })],
    ])('accepts %s', (_name, value) => {
      expect(isPlainContext(value)).toBe(true);
    });

    it.each([
      ['null', null],
      ['undefined', undefined],
      ['a string', 'phone'],
      ['a number', 1],
      ['an array', [{ device: 'phone' }]],
      ['a Date', new Date()],
      ['a Map', new Map([['a', 1]])],
      ['a class instance', new Custom()],
      ['a circular object', circular],
      ['an object holding a bigint', { n: 1n }],
    ])('refuses %s', (_name, value) => {
      expect(isPlainContext(value)).toBe(false);
    });
  });
});
