import type { Type } from '@nestjs/common';
import type { DurinRequest } from '../http/durin-request';

/** What `POST <routes.path>/login` hands to the app's credential check, as the client sent it. */
export interface DurinLoginCredentials {
  /** 1 to 256 characters, no control characters. */
  readonly username: string;
  /** 1 to 1024 characters, passed on untouched. */
  readonly password: string;
  /** The client the token is asked for; it exists (checked before the credentials). */
  readonly client: string;
}

/**
 * The app's credential check: the user for these credentials, or `null` (or `undefined`) when
 * they are wrong or the user does not exist. It must take about as long in both cases, or the
 * answer's timing tells which usernames exist: when no user is found, compare the password with
 * a fixed dummy hash of the same cost instead of returning at once.
 *
 * @example
 * const DUMMY = bcrypt.hashSync('not-a-password', 10);
 * async function validateUser({ username, password }: DurinLoginCredentials) {
 *   const user = await users.findOneBy({ username });
 *   const ok = await bcrypt.compare(password, user?.passwordHash ?? DUMMY);
 *   return ok && user ? user : null;
 * }
 */
export type DurinValidateUser<U extends object = object> = (
  credentials: DurinLoginCredentials,
  request: DurinRequest,
) => U | null | undefined | Promise<U | null | undefined>;

/**
 * The credential check as a provider, for one that injects the app's services (a repository, a
 * password hasher). Register the class in the `providers` of one of the app's modules and name it
 * in `routes.login.validator`; the login route finds it there. Same contract as
 * {@link DurinValidateUser}.
 *
 * @example
 * @Injectable()
 * export class UserValidator implements DurinUserValidator<User> {
 *   constructor(@InjectRepository(User) private readonly users: Repository<User>) {}
 *   async validateUser({ username, password }: DurinLoginCredentials) {
 *     const user = await this.users.findOneBy({ username });
 *     const ok = await bcrypt.compare(password, user?.passwordHash ?? DUMMY_HASH);
 *     return ok && user ? user : null;
 *   }
 * }
 */
export interface DurinUserValidator<U extends object = object> {
  validateUser: DurinValidateUser<U>;
}

/**
 * The ready-made `POST <routes.path>/login` (django-rest-durin's LoginView). Give exactly one of
 * `validateUser` and `validator`.
 */
export interface DurinLoginOptions {
  /** The credential check as a function. */
  validateUser?: DurinValidateUser;
  /** The credential check as a provider class the app registers (it may inject services). */
  validator?: Type<DurinUserValidator>;
  /**
   * Issue a cookie session: the tokens go into the cookies (as `AuthCookieService.setAuthCookie`
   * sets them), the body holds the expiries and the CSRF token, and cross-site posts are refused
   * (`OriginGuard`, 403 `csrf_failed`). Default `false`: a header session, the tokens in the body.
   */
  cookie?: boolean;
}
