import { CustomDecorator, SetMetadata } from '@nestjs/common';
import { clientPolicy } from '../clients/client-permissions';
import { DURIN_CLIENTS_KEY } from '../durin.constants';

/**
 * Admits only tokens issued for one of these clients (django-rest-durin's
 * `AllowSpecificClients`); any other client, or a token without a client, gets 403
 * `client_forbidden`. On a handler or a controller; a handler's `@AllowClients()` /
 * `@DenyClients()` replaces its controller's. Checked by the durin guard right after
 * authentication, with no extra query; `@Public()` routes are not checked.
 *
 * @throws DurinConfigurationError when the class is declared, for no names or a name that cannot
 * be a client's (not a string of 1 to 64 characters without control characters).
 *
 * @example
 * @UseGuards(AuthGuard)
 * @AllowClients('web', 'mobile')
 * @Controller('billing')
 * export class BillingController {}
 */
export const AllowClients = (...clients: string[]): CustomDecorator<string> =>
  SetMetadata(DURIN_CLIENTS_KEY, clientPolicy('allow', '@AllowClients()', clients));

/**
 * Refuses tokens issued for one of these clients with 403 `client_forbidden`
 * (django-rest-durin's `DisallowSpecificClients`); other clients and tokens without a client pass.
 * Same placement and override rules as {@link AllowClients}.
 *
 * @example
 * @DenyClients('cli')
 * @Delete('account')
 * deleteAccount() {}
 */
export const DenyClients = (...clients: string[]): CustomDecorator<string> =>
  SetMetadata(DURIN_CLIENTS_KEY, clientPolicy('deny', '@DenyClients()', clients));
