import { Inject, InjectionToken } from '@nestjs/common';
import { AuthCookieService } from './cookies/auth-cookie.service';
import { DURIN_RESOLVED_OPTIONS } from './durin.constants';
import { DurinConfigurationError } from './errors/durin-configuration.error';
import { RouteRateLimiter } from './throttling/route-rate-limiter';
import { TokenService } from './token.service';

/**
 * Named DurinModule instances, as `@nestjs/typeorm` names data sources: the unnamed (default)
 * instance is reached by the classes themselves, exactly as before names existed; a named one by
 * tokens derived from its name, so two instances never answer to the same token.
 */

/** The name that means "the unnamed instance". */
export const DEFAULT_DURIN_INSTANCE = 'default';

/** Names end up in injection tokens and class names: keep them plain. */
const INSTANCE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** @internal Whether `name` denotes a named (non-default) instance; validates it. */
export function isNamedInstance(name: string | undefined): name is string {
  if (name === undefined || name === DEFAULT_DURIN_INSTANCE) return false;
  if (typeof name !== 'string' || !INSTANCE_NAME_PATTERN.test(name)) {
    throw new DurinConfigurationError(
      'name',
      'must be a letter followed by up to 63 letters, digits, _ or -',
    );
  }
  return true;
}

function namedToken(name: string, what: string): string {
  return `DURIN:${name}:${what}`;
}

/**
 * The injection token of an instance's {@link TokenService}: the class itself for the default
 * instance.
 *
 * @example
 * moduleRef.get<TokenService<Admin>>(getTokenServiceToken('admin'))
 */
export function getTokenServiceToken(name?: string): InjectionToken {
  return isNamedInstance(name) ? namedToken(name, 'TokenService') : TokenService;
}

/** The injection token of an instance's {@link AuthCookieService}. */
export function getAuthCookieServiceToken(name?: string): InjectionToken {
  return isNamedInstance(name) ? namedToken(name, 'AuthCookieService') : AuthCookieService;
}

/** The injection token of an instance's resolved options (`DURIN_RESOLVED_OPTIONS` by default). */
export function getDurinOptionsToken(name?: string): InjectionToken {
  return isNamedInstance(name) ? namedToken(name, 'RESOLVED_OPTIONS') : DURIN_RESOLVED_OPTIONS;
}

/** @internal The injection token of an instance's `RouteRateLimiter` (the class by default). */
export function getRouteRateLimiterToken(name?: string): InjectionToken {
  return isNamedInstance(name) ? namedToken(name, 'RouteRateLimiter') : RouteRateLimiter;
}

/**
 * Injects the {@link TokenService} of the instance `name` (the default one without a name).
 *
 * @example
 * constructor(@InjectTokenService('admin') private readonly adminTokens: TokenService<Admin>) {}
 */
export function InjectTokenService(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getTokenServiceToken(name));
}

/** Injects the {@link AuthCookieService} of the instance `name`. */
export function InjectAuthCookieService(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getAuthCookieServiceToken(name));
}

/** Injects the resolved options of the instance `name`. */
export function InjectDurinOptions(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getDurinOptionsToken(name));
}
