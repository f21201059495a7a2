import { DurinConfigurationError } from '../errors/durin-configuration.error';
import { DurinModuleOptions } from '../interfaces/durin-module-options.interface';
import { MIN_TAG_KEY_LENGTH } from '../tokens/token-tag';
import { describe } from './duration';

/** `tokenTagKey` and `acceptUntaggedTokens` after validation (see `DurinModuleOptions`). */
export interface ResolvedTokenTagOptions {
  /** Newest first; empty when tokens carry no tag (the untagged format, as before issue 12). */
  tokenTagKeys: string[];
  /** Whether tokens of the untagged format are still looked up; always `true` without a key. */
  acceptUntaggedTokens: boolean;
}

export const TOKEN_TAG_OPTION_NAMES = ['tokenTagKey', 'acceptUntaggedTokens'] as const;

function resolveKeys(value: unknown): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new DurinConfigurationError(
      'tokenTagKey',
      `must be a string or a non-empty array of strings (got ${describe(value)})`,
    );
  }
  for (const key of list) {
    if (typeof key !== 'string' || key.length < MIN_TAG_KEY_LENGTH) {
      throw new DurinConfigurationError(
        'tokenTagKey',
        `each key must be a string of at least ${MIN_TAG_KEY_LENGTH} characters`,
      );
    }
  }
  if (new Set(list).size !== list.length) {
    // Harmless to verify, but a sign of a mistake in a rotation (the new key not really new).
    throw new DurinConfigurationError('tokenTagKey', 'lists the same key twice');
  }
  return [...(list as string[])];
}

/**
 * Validates the forged-token tag options. There is deliberately no default key: a constant one
 * would be public (anyone could tag a forgery) and a per-process random one would break every
 * token on a restart or on another instance, so without `tokenTagKey` tokens stay untagged.
 */
export function resolveTokenTagOptions(options: DurinModuleOptions): ResolvedTokenTagOptions {
  const tokenTagKeys = resolveKeys(options.tokenTagKey);
  const accept: unknown = options.acceptUntaggedTokens;
  if (accept !== undefined && typeof accept !== 'boolean') {
    throw new DurinConfigurationError(
      'acceptUntaggedTokens',
      `must be true or false (got ${describe(accept)})`,
    );
  }
  if (accept === false && tokenTagKeys.length === 0) {
    throw new DurinConfigurationError(
      'acceptUntaggedTokens',
      'false needs a tokenTagKey (without one every token is untagged and none would work)',
    );
  }
  return { tokenTagKeys, acceptUntaggedTokens: accept ?? true };
}
