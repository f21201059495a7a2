import { Inject, Injectable, Logger, Optional, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DURIN_RESOLVED_OPTIONS } from '../durin.constants';
import type { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { ResolvedDurinOptions } from '../options/resolved-options';
import { DurinEvent, DurinEventType, durinEventName } from './durin-event.interface';

/** The part of `EventEmitter2` (what `@nestjs/event-emitter` provides) that is used here. */
interface EventEmitterLike {
  emitAsync(event: string, ...values: unknown[]): Promise<unknown[]> | unknown;
}

function isEventEmitter(value: unknown): value is EventEmitterLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<EventEmitterLike>).emitAsync === 'function'
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** The facts an event is built from; everything else (secrets, hashes) is left out by design. */
export interface DurinEventSubject {
  tokenId?: string | null;
  familyId?: string | null;
  userId?: unknown;
  authType?: DurinEvent['authType'];
  client?: string | null;
  count?: number;
}

/**
 * Delivers {@link DurinEvent}s to the `onEvent` option and, when the application has
 * `@nestjs/event-emitter` (`EventEmitterModule.forRoot()`), to its `EventEmitter2` as
 * `durin.<type>`. `@nestjs/event-emitter` is an optional peer dependency: it is looked up at the
 * first event and, when it is missing, events go to `onEvent` only.
 *
 * Listeners never break authentication: what they throw (or reject with) is logged with the event
 * type only, never with token material, and swallowed.
 */
@Injectable()
export class DurinEventsService {
  private readonly logger = new Logger('DurinEvents');
  /** `undefined`: not looked up yet; `null`: the app has no EventEmitter2. */
  private emitter: EventEmitterLike | null | undefined;

  constructor(
    @Inject(DURIN_RESOLVED_OPTIONS) private readonly options: ResolvedDurinOptions,
    @Optional() private readonly moduleRef?: ModuleRef,
  ) {}

  /** Builds the event for `subject` and delivers it. Never throws. */
  emit(
    type: DurinEventType,
    subject: DurinEventSubject,
    reason: string | null,
    occurredAt: number,
  ): void {
    const event: DurinEvent = Object.freeze({
      type,
      tokenId: subject.tokenId ?? null,
      familyId: subject.familyId ?? null,
      userId: toUserId(subject.userId),
      authType: subject.authType ?? null,
      client: subject.client ?? null,
      reason,
      occurredAt: new Date(occurredAt),
      ...(subject.count === undefined ? {} : { count: subject.count }),
    });
    const listener = this.options.onEvent;
    if (listener !== undefined) {
      this.deliver(type, () => listener(event));
    }
    const emitter = this.resolveEmitter();
    if (emitter !== null) {
      // emitAsync, not emit: it gathers what async listeners return, so a rejection is caught
      // here instead of becoming an unhandled rejection that could take the process down.
      this.deliver(type, () => emitter.emitAsync(durinEventName(type), event));
    }
  }

  /** The facts of a token for an event: ids, user id, auth type, client name. */
  subjectOf(token: AbstractAuthToken, userIdField: string): DurinEventSubject {
    const user = token.user as Record<string, unknown> | undefined;
    return {
      tokenId: token.id,
      familyId: token.familyId,
      userId: user !== null && typeof user === 'object' ? user[userIdField] : undefined,
      authType: token.authType,
      client: token.client?.name ?? null,
    };
  }

  private deliver(type: DurinEventType, call: () => unknown): void {
    try {
      const result = call();
      if (isThenable(result)) {
        result.then(undefined, (error: unknown) => this.report(type, error));
      }
    } catch (error) {
      this.report(type, error);
    }
  }

  private report(type: DurinEventType, error: unknown): void {
    // Only the listener's own message: the event itself holds nothing secret, but there is no
    // reason to copy it into logs either.
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.logger.error(`a listener of ${durinEventName(type)} failed: ${detail}`);
  }

  private resolveEmitter(): EventEmitterLike | null {
    if (this.emitter !== undefined) return this.emitter;
    this.emitter = null;
    if (this.moduleRef === undefined) return null;
    let eventEmitterClass: unknown;
    try {
      // Loaded on demand: @nestjs/event-emitter is an optional peer dependency.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      eventEmitterClass = (require('@nestjs/event-emitter') as { EventEmitter2?: unknown })
        .EventEmitter2;
    } catch {
      return null;
    }
    if (typeof eventEmitterClass !== 'function') return null;
    try {
      const found: unknown = this.moduleRef.get(eventEmitterClass as Type<unknown>, {
        strict: false,
      });
      this.emitter = isEventEmitter(found) ? found : null;
    } catch {
      // The package is installed but the app did not import EventEmitterModule.
      this.emitter = null;
    }
    return this.emitter;
  }
}

function toUserId(value: unknown): string | number | null {
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'bigint') return value.toString();
  return null;
}
