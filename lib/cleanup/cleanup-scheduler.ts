import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { DURIN_CLOCK, DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import { DurinEventsService } from '../events/durin-events.service';
import { Clock } from '../interfaces/clock.interface';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { TokenExpiry } from '../revocation/token-expiry';
import { TokenStore } from '../store/token-store';
import { withCleanupLock } from './cleanup-lock';

/**
 * The `cleanup: { every }` option: `revokeExpiredTokens()` in the background.
 *
 * Plain timers, no scheduler dependency: one `setTimeout` at a time, armed again only when a run
 * has finished, so runs never overlap however long one takes. Timers are `unref`ed: they never
 * keep a process alive that has nothing else to do. Several instances on one database take turns
 * through a database lock held for the run ({@link withCleanupLock}); an instance that finds it
 * taken skips that turn. A failing run is logged and retried at the next turn; it never reaches
 * the app. On shutdown the timer is cleared and a running cleanup stops after its current batch,
 * before the module's data source closes.
 */
@Injectable()
export class DurinCleanupScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('DurinCleanup');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    @Inject(DURIN_CLOCK) private readonly clock: Clock,
    private readonly expiry: TokenExpiry,
    private readonly store: TokenStore,
    @Optional() private readonly events?: DurinEventsService,
  ) {}

  onApplicationBootstrap(): void {
    const cleanup = this.options.cleanup;
    if (cleanup !== null) this.arm(cleanup.firstRunMs);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * One cleanup now, under the same lock as the scheduled ones: the number of rows removed (or
   * marked), or `null` when another instance was running it. For operations and tests; the
   * schedule itself is unaffected.
   */
  async runOnce(): Promise<number | null> {
    // Tracked so that shutdown waits for it, whoever started it.
    const run = this.clean();
    this.running = run;
    try {
      return await run;
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }

  private async clean(): Promise<number | null> {
    const started = this.clock.now();
    const outcome = await withCleanupLock(
      this.store.dataSource,
      this.store.tokens.metadata.tableName,
      () => this.expiry.revokeExpiredTokens(this.stopping.signal),
    );
    if (!outcome.ran) {
      this.logger.debug('skipped: another instance is cleaning up');
      return null;
    }
    const now = this.clock.now();
    this.logger.log(`removed ${outcome.result} expired tokens in ${now - started} ms`);
    this.events?.emit('expired_tokens_cleaned', { count: outcome.result }, 'scheduled', now);
    return outcome.result;
  }

  private arm(delayMs: number): void {
    if (this.stopping.signal.aborted) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const run = this.runOnce().catch((error: unknown) => {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.logger.error(
        `cleanup failed, next try in ${this.options.cleanup?.everyMs} ms: ${detail}`,
      );
    });
    this.running = run;
    await run;
    this.running = undefined;
    if (this.options.cleanup !== null) this.arm(this.options.cleanup.everyMs);
  }
}
