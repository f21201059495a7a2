import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { DurinConfigurationError } from '../../lib/errors/durin-configuration.error';
import { DurinModuleOptions } from '../../lib/interfaces/durin-module-options.interface';
import { resolveDurinOptions } from '../../lib/options/resolve-options';

@Entity('users')
class User {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  email!: string;
}

const KEY_A = 'a'.repeat(32);
const KEY_B = 'b'.repeat(40);

function resolve(options: Record<string, unknown>) {
  return resolveDurinOptions({ userEntity: User, ...options } as DurinModuleOptions);
}

describe('tokenTagKey and acceptUntaggedTokens', () => {
  it('default to no key (untagged tokens, as before) and accepting untagged tokens', () => {
    expect(resolve({})).toMatchObject({ tokenTagKeys: [], acceptUntaggedTokens: true });
  });

  it('take one key or a list, newest first', () => {
    expect(resolve({ tokenTagKey: KEY_A }).tokenTagKeys).toEqual([KEY_A]);
    expect(resolve({ tokenTagKey: [KEY_B, KEY_A] }).tokenTagKeys).toEqual([KEY_B, KEY_A]);
  });

  it('copy the list, so changing the given array later changes nothing', () => {
    const keys = [KEY_A];
    const resolved = resolve({ tokenTagKey: keys });
    keys.push(KEY_B);
    expect(resolved.tokenTagKeys).toEqual([KEY_A]);
  });

  it('turn untagged tokens off only with a key', () => {
    expect(resolve({ tokenTagKey: KEY_A, acceptUntaggedTokens: false }).acceptUntaggedTokens).toBe(
      false,
    );
  });

  it.each([
    ['a key of 31 characters', { tokenTagKey: 'k'.repeat(31) }, 'tokenTagKey', /at least 32/],
    ['an empty key', { tokenTagKey: '' }, 'tokenTagKey', /at least 32/],
    ['an empty list', { tokenTagKey: [] }, 'tokenTagKey', /non-empty array/],
    ['a short key in a list', { tokenTagKey: [KEY_A, 'short'] }, 'tokenTagKey', /at least 32/],
    ['a number', { tokenTagKey: 1234 }, 'tokenTagKey', /string/],
    ['a Buffer', { tokenTagKey: Buffer.alloc(32) }, 'tokenTagKey', /string/],
    ['null', { tokenTagKey: null }, 'tokenTagKey', /string/],
    ['the same key twice', { tokenTagKey: [KEY_A, KEY_A] }, 'tokenTagKey', /twice/],
    [
      'acceptUntaggedTokens as a string',
      { tokenTagKey: KEY_A, acceptUntaggedTokens: 'no' },
      'acceptUntaggedTokens',
      /true or false/,
    ],
    [
      'acceptUntaggedTokens: false without a key',
      { acceptUntaggedTokens: false },
      'acceptUntaggedTokens',
      /needs a tokenTagKey/,
    ],
  ])('refuse %s at boot', (_name, options, option, reason) => {
    let error: unknown;
    try {
      resolve(options);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(DurinConfigurationError);
    expect((error as DurinConfigurationError).option).toBe(option);
    expect((error as Error).message).toMatch(reason);
  });
});
