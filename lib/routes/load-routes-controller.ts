import { Type } from '@nestjs/common';
import { DurinConfigurationError } from '../errors/durin-configuration.error';
import type { DurinRoutesMount } from './durin-routes.controller';
import { checkLoginOptions, createDurinLoginController } from './durin-login.controller';

/**
 * The routes controller for a mount. Loaded only when routes are mounted: it needs
 * class-validator and class-transformer (dependencies of this package), which the core does not,
 * so an app without the routes never loads them.
 * Both ways of mounting (`routes: { path }` and `DurinRoutesModule`) come through here.
 */
export function loadRoutesController(mount: DurinRoutesMount, option: string): Type<unknown> {
  if (typeof mount !== 'object' || mount === null || typeof mount.path !== 'string') {
    throw new DurinConfigurationError(option, "must be an object like { path: 'auth' }");
  }
  type RoutesModule = typeof import('./durin-routes.controller');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred on purpose, see above
  const routesModule: RoutesModule = require('./durin-routes.controller');
  return routesModule.createDurinRoutesController(mount);
}

/** The login controller when `login` is given (checked here, at declaration), else none. */
export function loadLoginControllers(
  mount: DurinRoutesMount & { login?: unknown },
  option: string,
): Type<unknown>[] {
  if (mount.login === undefined) return [];
  const login = checkLoginOptions(mount.login, `${option}.login`);
  return [createDurinLoginController({ ...mount, login })];
}
