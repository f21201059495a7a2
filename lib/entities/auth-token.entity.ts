import { Entity } from 'typeorm';
import { AbstractAuthToken } from './abstract-auth-token.entity';

/**
 * The built-in token model, table `auth_token`. (The name `AuthToken` is the `@AuthToken()`
 * parameter decorator.)
 */
@Entity('auth_token')
export class AuthTokenEntity<TUser extends object = object> extends AbstractAuthToken<TUser> {}
