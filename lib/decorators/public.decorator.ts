import { CustomDecorator, SetMetadata } from '@nestjs/common';
import { DURIN_PUBLIC_KEY } from '../durin.constants';

/**
 * Marks a route (or every route of a controller) as open: {@link AuthGuard} lets it through
 * without looking for a credential, also when the guard is global (`APP_GUARD`).
 *
 * @example
 * @Public()
 * @Get('health')
 * health() {
 *   return { ok: true };
 * }
 */
export const Public = (): CustomDecorator<string> => SetMetadata(DURIN_PUBLIC_KEY, true);
