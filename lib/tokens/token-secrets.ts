import { Inject, Injectable } from '@nestjs/common';
import { DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { TokenSet } from '../interfaces/token-set.interface';
import { capped } from '../issuing/lifetimes';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { TokenFormat } from './token-format';
import { TokenHasher } from './token-hasher';
import { TokenTag } from './token-tag';

/** The raw secrets of a token pair, shown to the caller once and never stored. */
export interface RawSecrets {
  access: string;
  refresh: string | null;
}

/**
 * The configured token format and hasher, shared by the units that mint, check and rotate
 * tokens so they agree on the prefix and the peppers; plus what every returned token goes
 * through on its way out.
 */
@Injectable()
export class TokenSecrets {
  readonly format: TokenFormat;
  readonly hasher: TokenHasher;

  constructor(@Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions) {
    // With a tokenTagKey, new tokens carry a keyed tag that parse verifies before any lookup.
    const tagging =
      options.tokenTagKeys.length === 0
        ? null
        : {
            tag: new TokenTag(options.tokenTagKeys),
            acceptUntagged: options.acceptUntaggedTokens,
          };
    this.format = new TokenFormat(options.tokenPrefix, tagging);
    this.hasher = new TokenHasher(options.peppers);
  }

  /** Fills in new secrets and expiries on `token`; returns the raw secrets. */
  mint(token: AbstractAuthToken, now: number): RawSecrets {
    const access = this.format.generate('access');
    const refresh = token.refreshTtlMs === null ? null : this.format.generate('refresh');
    token.tokenHash = this.hasher.hash(access);
    token.refreshTokenHash = refresh === null ? null : this.hasher.hash(refresh);
    token.expiresAt = capped(now, token.accessTtlMs, token.absoluteExpiresAt);
    token.refreshExpiresAt =
      refresh === null ? null : capped(now, token.refreshTtlMs, token.absoluteExpiresAt);
    return { access, refresh };
  }

  /** What issuing and rotation return: the raw secrets, their expiries and the prepared token. */
  tokenSet<T extends AbstractAuthToken>(token: T, secrets: RawSecrets): TokenSet<T> {
    this.prepare(token);
    return {
      accessToken: secrets.access,
      refreshToken: secrets.refresh,
      accessTokenExpiresAt: token.expiresAt,
      refreshTokenExpiresAt: token.refreshExpiresAt,
      token,
    };
  }

  /** Marks a token for the caller: context access mode. */
  prepare<T extends AbstractAuthToken>(token: T): T {
    token.strictContextAccess = this.options.strictContextAccess;
    return token;
  }
}
