import type { CanActivate, ExecutionContext, Logger } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { DurinConfigurationError } from '../errors/durin-configuration.error';

/**
 * `@nestjs/throttler` is an optional peer: `require('nestjs-durin')` must work without it, and an
 * app that never throttles must not need it. So it is loaded here, at run time, and only its shape
 * is written down below (structural copies of its v6 types), which keeps the emitted declarations
 * free of imports from a package the app may not have.
 */

/** What a `@nestjs/throttler` storage (`ThrottlerStorage`) answers for one hit. */
export interface DurinThrottlerStorageRecord {
  totalHits: number;
  /** Seconds until the window ends. */
  timeToExpire: number;
  isBlocked: boolean;
  /** Seconds until the block ends. */
  timeToBlockExpire: number;
}

/**
 * A `@nestjs/throttler` storage: the in-memory default, or a shared one such as
 * `@nest-lab/throttler-storage-redis`. `ttl` and `blockDuration` are milliseconds.
 */
export interface DurinThrottlerStorage {
  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<DurinThrottlerStorageRecord>;
}

/** A value of a throttler option, fixed or computed per request (`@nestjs/throttler`'s `Resolvable`). */
export type DurinResolvable<T> = T | ((context: ExecutionContext) => T | Promise<T>);

/** One named throttler (`@nestjs/throttler`'s `ThrottlerOptions`). */
export interface DurinNamedThrottler {
  name?: string;
  limit: DurinResolvable<number>;
  ttl: DurinResolvable<number>;
  blockDuration?: DurinResolvable<number>;
  ignoreUserAgents?: RegExp[];
  skipIf?: (context: ExecutionContext) => boolean;
  getTracker?: (
    req: Record<string, unknown>,
    context: ExecutionContext,
  ) => Promise<string> | string;
  generateKey?: (context: ExecutionContext, tracker: string, throttlerName: string) => string;
  setHeaders?: boolean;
}

/** The limit that was hit (`@nestjs/throttler`'s `ThrottlerLimitDetail`). */
export interface DurinThrottlerLimitDetail extends DurinThrottlerStorageRecord {
  ttl: number;
  limit: number;
  key: string;
  tracker: string;
}

/** One throttler's turn in `canActivate` (`@nestjs/throttler`'s `ThrottlerRequest`). */
export interface DurinThrottlerRequest {
  context: ExecutionContext;
  limit: number;
  ttl: number;
  throttler: DurinNamedThrottler;
  blockDuration: number;
  getTracker: NonNullable<DurinNamedThrottler['getTracker']>;
  generateKey: NonNullable<DurinNamedThrottler['generateKey']>;
}

/**
 * The members of `@nestjs/throttler`'s `ThrottlerGuard` (v6) that `DurinThrottlerGuard` and its
 * subclasses may use. Declared only: at run time the base is the package's own class.
 */
export declare abstract class DurinThrottlerGuardBase implements CanActivate {
  protected readonly options: unknown;
  protected readonly storageService: DurinThrottlerStorage;
  protected readonly reflector: Reflector;
  protected headerPrefix: string;
  protected logger: Logger;
  protected throttlers: DurinNamedThrottler[];
  protected commonOptions: Pick<
    DurinNamedThrottler,
    'skipIf' | 'ignoreUserAgents' | 'getTracker' | 'generateKey' | 'setHeaders'
  >;
  constructor(options: unknown, storageService: DurinThrottlerStorage, reflector: Reflector);
  onModuleInit(): Promise<void>;
  canActivate(context: ExecutionContext): Promise<boolean>;
  protected shouldSkip(context: ExecutionContext): Promise<boolean>;
  protected handleRequest(requestProps: DurinThrottlerRequest): Promise<boolean>;
  protected getTracker(req: Record<string, unknown>): Promise<string>;
  protected setResponseHeader(
    res: Record<string, unknown>,
    name: string,
    value: string | number,
  ): void;
  protected getRequestResponse(context: ExecutionContext): {
    req: Record<string, unknown>;
    res: Record<string, unknown>;
  };
  protected generateKey(context: ExecutionContext, suffix: string, name: string): string;
  protected throwThrottlingException(
    context: ExecutionContext,
    detail: DurinThrottlerLimitDetail,
  ): Promise<void>;
  protected getErrorMessage(
    context: ExecutionContext,
    detail: DurinThrottlerLimitDetail,
  ): Promise<string>;
}

/** What the package gives us, or why it cannot. */
export interface LoadedThrottler {
  /** `ThrottlerGuard`, or a stand-in whose construction throws {@link missingThrottler}. */
  readonly Guard: typeof DurinThrottlerGuardBase;
  /** The injection token of the module options (`getOptionsToken()`). */
  readonly optionsToken: string | symbol;
  /** The injection token of the storage (`getStorageToken()`). */
  readonly storageToken: string | symbol;
  /** `normalizeIp`: an IPv6 address to its /64, as the package's own tracker does. */
  readonly normalizeIp: (ip: string) => string;
  readonly available: boolean;
}

/** The error for a use of throttling without the package. */
export function missingThrottler(option: string): DurinConfigurationError {
  return new DurinConfigurationError(
    option,
    "needs the optional peer dependency '@nestjs/throttler' (npm install @nestjs/throttler)",
  );
}

interface ThrottlerPackage {
  ThrottlerGuard: unknown;
  getOptionsToken(): string | symbol;
  getStorageToken(): string | symbol;
  normalizeIp(ip: string): string;
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes("'@nestjs/throttler'")
  );
}

let loaded: LoadedThrottler | undefined;

/**
 * `@nestjs/throttler`, loaded once. When it is not installed: a stand-in base class, so that the
 * library still loads; using the guard then fails with a {@link DurinConfigurationError} naming
 * the package. Any other load failure (a broken install) is thrown as it is.
 */
export function loadThrottler(): LoadedThrottler {
  if (loaded !== undefined) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer, see above
    const throttler = require('@nestjs/throttler') as ThrottlerPackage;
    loaded = {
      Guard: throttler.ThrottlerGuard as typeof DurinThrottlerGuardBase,
      optionsToken: throttler.getOptionsToken(),
      storageToken: throttler.getStorageToken(),
      normalizeIp: (ip) => throttler.normalizeIp(ip),
      available: true,
    };
  } catch (error) {
    if (!isMissing(error)) throw error;
    class MissingThrottlerGuard {
      constructor() {
        throw missingThrottler('DurinThrottlerGuard');
      }
    }
    loaded = {
      Guard: MissingThrottlerGuard as unknown as typeof DurinThrottlerGuardBase,
      optionsToken: Symbol('nestjs-durin: @nestjs/throttler is not installed (options)'),
      storageToken: Symbol('nestjs-durin: @nestjs/throttler is not installed (storage)'),
      normalizeIp: (ip) => ip,
      available: false,
    };
  }
  return loaded;
}
