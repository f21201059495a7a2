import { Inject, Injectable } from '@nestjs/common';
import { DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { RefreshTokenOptions, TokenSet } from '../interfaces/token-set.interface';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { findGracePayload } from '../store/security-queries';
import { guardStore } from '../store/store-calls';
import { TokenStore } from '../store/token-store';
import { openGracePair } from '../tokens/grace-payload';
import { TokenSecrets } from '../tokens/token-secrets';

/**
 * The refresh grace window (`refreshReuseGraceSeconds`): the immediate parent of the current
 * pair, presented again shortly after its rotation (two tabs refreshing at once), gets that same
 * pair back from the sealed copy on the parent row instead of counting as reuse.
 */
@Injectable()
export class GraceReplay<T extends AbstractAuthToken = AbstractAuthToken> {
  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    private readonly store: TokenStore<T>,
    private readonly secrets: TokenSecrets,
  ) {}

  /**
   * The current pair again for the immediate parent presented within the grace window, or `null`
   * when the window is off or over, the child is no longer the live head (rotated further,
   * revoked, expired) or the sealed pair does not open and match.
   */
  async replay(
    parent: T,
    raw: string,
    opts: RefreshTokenOptions,
    now: number,
  ): Promise<TokenSet<T> | null> {
    const grace = this.options.refreshReuseGraceMs;
    const childId = parent.replacedById;
    // The window is [rotation - grace, rotation + grace): symmetric, so instances whose clocks
    // disagree by less than the window still see a racing tab inside it, while a clock that
    // jumped back does not turn "shortly after the rotation" into "any time before it" (F11).
    if (
      grace === 0 ||
      childId === null ||
      parent.revokedAt === null ||
      now >= parent.revokedAt.getTime() + grace ||
      now <= parent.revokedAt.getTime() - grace
    ) {
      return null;
    }
    if (
      opts.authType !== undefined &&
      this.options.enableAuthRestriction &&
      parent.authType !== opts.authType
    ) {
      return null;
    }
    const timeoutMs = this.options.storeTimeoutMs;
    const box = await guardStore(() => findGracePayload(this.store, parent.id), timeoutMs);
    const child =
      box === null ? null : await guardStore(() => this.store.findById(childId), timeoutMs);
    if (box === null || child === null || child.revokedAt !== null) {
      return null;
    }
    const refreshEnd = child.refreshExpiresAt?.getTime() ?? -Infinity;
    const absoluteEnd = child.absoluteExpiresAt?.getTime() ?? Infinity;
    if (now >= refreshEnd || now >= absoluteEnd || !this.options.isUserActive(child.user)) {
      return null;
    }
    const pair = openGracePair(raw, parent.id, childId, box);
    const hasher = this.secrets.hasher;
    // The box must hold exactly the child's secrets (it does unless the row was tampered with).
    if (
      pair === null ||
      child.refreshTokenHash === null ||
      !hasher.candidates(pair.access).includes(child.tokenHash) ||
      !hasher.candidates(pair.refresh).includes(child.refreshTokenHash)
    ) {
      return null;
    }
    return this.secrets.tokenSet(child, pair);
  }
}
