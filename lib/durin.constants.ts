/**
 * Injection tokens and metadata keys. Every key is namespaced so it cannot collide with an
 * application's own providers or metadata.
 */

/** The injectable clock (see {@link Clock}). Override it in tests to move time without sleeping. */
export const DURIN_CLOCK = 'DURIN:CLOCK';

/** The validated, normalised options ({@link ResolvedDurinOptions}). */
export const DURIN_RESOLVED_OPTIONS = 'DURIN:RESOLVED_OPTIONS';

/** The part of the configuration that must be known when the module is imported. */
export const DURIN_STATIC_OPTIONS = 'DURIN:STATIC_OPTIONS';

/** The TypeORM repository of the token model (the built-in entity or the app's own). */
export const DURIN_TOKEN_REPOSITORY = 'DURIN:TOKEN_REPOSITORY';

/** The TypeORM repository of the client model. */
export const DURIN_CLIENT_REPOSITORY = 'DURIN:CLIENT_REPOSITORY';

/** The ready-made routes' own path (`routes.path`, or `DurinRoutesModule.register({ path })`). */
export const DURIN_ROUTES_PATH = 'DURIN:ROUTES_PATH';

/** Whether `POST <routes path>/login` is mounted next to the session routes. */
export const DURIN_ROUTES_LOGIN = 'DURIN:ROUTES_LOGIN';

/** Metadata key set by `@Public()`. */
export const DURIN_PUBLIC_KEY = 'DURIN:PUBLIC';

/**
 * Metadata key set by `@AllowClients()` / `@DenyClients()`: one key for both, so a handler's
 * policy replaces its controller's.
 */
export const DURIN_CLIENTS_KEY = 'DURIN:CLIENTS';
