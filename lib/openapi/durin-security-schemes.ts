/** The name of durin's bearer scheme in an OpenAPI document (`components.securitySchemes`). */
export const DURIN_BEARER_SCHEME = 'durin-bearer';
/** The name of durin's auth-cookie scheme in an OpenAPI document. */
export const DURIN_COOKIE_SCHEME = 'durin-cookie';

/** The default auth cookie as set (`cookie.name` `token`, with `__Host-` since `secure` is on). */
const DEFAULT_COOKIE_NAME = '__Host-token';

/**
 * A security scheme as `DocumentBuilder.addSecurity` takes it (the subset used here, written down
 * so that the library's declarations do not import the optional `@nestjs/swagger`).
 */
export type DurinSecuritySchemeObject =
  | { type: 'http'; scheme: 'bearer'; description: string }
  | { type: 'apiKey'; in: 'cookie'; name: string; description: string };

/** Anything with `addSecurity`, such as `@nestjs/swagger`'s `DocumentBuilder`. */
export interface DurinSecuritySchemesTarget {
  addSecurity(name: string, options: DurinSecuritySchemeObject): unknown;
}

/** Options of {@link addDurinSecuritySchemes}. */
export interface DurinSecuritySchemesOptions {
  /**
   * The auth cookie's name as it is set: the resolved `cookie.name`, e.g.
   * `app.get<ResolvedDurinOptions>(getDurinOptionsToken()).cookie.name`. Default `__Host-token`
   * (the default `token` with the prefix a secure cookie gets).
   */
  cookieName?: string;
}

/**
 * Adds the two ways a token is presented to the routes' security schemes of an OpenAPI document:
 * `durin-bearer` (`Authorization: Bearer <token>`; the token is opaque, not a JWT) and
 * `durin-cookie` (the HttpOnly auth cookie, whose writes also need the CSRF header). The
 * ready-made routes refer to them by these names.
 *
 * @example
 * const config = addDurinSecuritySchemes(new DocumentBuilder().setTitle('API')).build();
 * SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
 */
export function addDurinSecuritySchemes<T extends DurinSecuritySchemesTarget>(
  builder: T,
  options: DurinSecuritySchemesOptions = {},
): T {
  builder.addSecurity(DURIN_BEARER_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description:
      'An opaque nestjs-durin access token (not a JWT) in `Authorization: Bearer <token>`.',
  });
  builder.addSecurity(DURIN_COOKIE_SCHEME, {
    type: 'apiKey',
    in: 'cookie',
    name: options.cookieName ?? DEFAULT_COOKIE_NAME,
    description:
      'The HttpOnly auth cookie of a cookie session; a POST or DELETE with it also needs the ' +
      'CSRF token in the CSRF header (`csrf.headerName`, default `X-CSRF-Token`).',
  });
  return builder;
}
