import { DurinError } from '../errors/durin.error';
import { TokenStoreUnavailableError } from '../errors/token-errors';

/**
 * Runs store work off the authentication path: a failure is a {@link TokenStoreUnavailableError}
 * (a 503, never a 500), while errors of ours thrown inside (a refused session limit) pass as they
 * are. No deadline here: a write reported as failed must not commit afterwards.
 */
export async function storeWork<R>(work: () => Promise<R>): Promise<R> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof DurinError ? error : new TokenStoreUnavailableError(error);
  }
}

/**
 * Runs a store call on the authentication path; a failure or a call slower than `timeoutMs`
 * means "unavailable", so a stalled database fails requests closed instead of hanging them.
 */
export async function guardStore<R>(work: () => Promise<R>, timeoutMs: number): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TokenStoreUnavailableError('timeout')), timeoutMs);
  });
  try {
    return await Promise.race([work(), timeout]);
  } catch (error) {
    throw error instanceof TokenStoreUnavailableError
      ? error
      : new TokenStoreUnavailableError(error);
  } finally {
    clearTimeout(timer);
  }
}
