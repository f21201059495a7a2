import { createHash, createSecretKey, KeyObject } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { InjectRepository } from '@nestjs/typeorm';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { Repository } from 'typeorm';
import { AuthTokenEntity, TokenService } from '../../lib';

/** The HS256 secret of the passport-jwt peer (bench only). */
export const JWT_SECRET = 'bench-secret-for-hs256-please-ignore-0123456789';

/** The part of a request the peers read and write. */
export interface WithUser {
  user?: { id: number };
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The peer: @nestjs/passport + passport-jwt with the secret as a string. jsonwebtoken turns a
 * string secret into a key on every verify.
 */
@Injectable()
export class JwtStringStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: JWT_SECRET,
      algorithms: ['HS256'],
    });
  }

  validate(payload: { sub: number }): { id: number } {
    return { id: payload.sub };
  }
}

/** The same with a `KeyObject`, imported once: the fast way to use passport-jwt. */
@Injectable()
export class JwtKeyStrategy extends PassportStrategy(Strategy, 'jwt-key') {
  constructor() {
    const key: KeyObject = createSecretKey(Buffer.from(JWT_SECRET, 'utf8'));
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // passport-jwt's types predate KeyObject; jsonwebtoken 9 accepts it.
      secretOrKey: key as unknown as string,
      algorithms: ['HS256'],
    });
  }

  validate(payload: { sub: number }): { id: number } {
    return { id: payload.sub };
  }
}

function bearerHash(request: WithUser): string {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
    throw new UnauthorizedException();
  }
  return createHash('sha256').update(header.slice(7), 'utf8').digest('hex');
}

function accept(request: WithUser, token: AuthTokenEntity | null): true {
  if (
    !token ||
    token.revokedAt !== null ||
    (token.expiresAt !== null && token.expiresAt.getTime() <= Date.now())
  ) {
    throw new UnauthorizedException();
  }
  request.user = token.user as { id: number };
  return true;
}

/**
 * The fair peer (issue 12): the opaque-token guard a competent developer writes. One statement
 * (token joined to its user by the unique hash index), the same expiry and revocation checks.
 */
@Injectable()
export class NaiveTokenGuard implements CanActivate {
  constructor(
    @InjectRepository(AuthTokenEntity) private readonly tokens: Repository<AuthTokenEntity>,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<WithUser>();
    const hash = bearerHash(request);
    const token = await this.tokens
      .createQueryBuilder('token')
      .innerJoinAndSelect('token.user', 'user')
      .where('token.tokenHash = :hash', { hash })
      .getOne();
    return accept(request, token);
  }
}

/**
 * The first round's peer, kept as a second row: `findOne` with the user relation, which TypeORM
 * sends as two statements (the first with DISTINCT to page the root entity).
 */
@Injectable()
export class NaiveFindOneGuard implements CanActivate {
  constructor(
    @InjectRepository(AuthTokenEntity) private readonly tokens: Repository<AuthTokenEntity>,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<WithUser>();
    const hash = bearerHash(request);
    const token = await this.tokens.findOne({
      where: { tokenHash: hash },
      relations: { user: true },
    });
    return accept(request, token);
  }
}

/**
 * Not a recommendation: the smallest possible guard around `TokenService.authenticate` (no cookie,
 * no CSRF, no duplicate-header check, no 401 details), to show what the service itself costs next
 * to the library's full `AuthGuard`.
 */
@Injectable()
export class MinimalDurinGuard implements CanActivate {
  constructor(private readonly tokens: TokenService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<WithUser>();
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
      throw new UnauthorizedException();
    }
    const result = await this.tokens.authenticate(header.slice(7), 'header');
    if (!result.ok) throw new UnauthorizedException();
    request.user = result.user as { id: number };
    return true;
  }
}

/**
 * Floor of the accepting cases: a guard that reads nothing and sets `request.user` (and
 * `request.authToken`, as AuthGuard does) to constants. Whatever a token guard does costs at least
 * this; the cached cases are read against it as well as against the no-auth route.
 */
@Injectable()
export class AcceptAllGuard implements CanActivate {
  private static readonly user = { id: 1 };
  private static readonly token = {};

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<WithUser & { authToken?: object }>();
    request.user = AcceptAllGuard.user;
    request.authToken = AcceptAllGuard.token;
    return true;
  }
}

/**
 * Floor of the flood cases: a guard that refuses every request at once with Nest's own
 * `UnauthorizedException`, as passport's AuthGuard does. Any 401 costs at least this: the
 * exception, Nest's exception filter and a larger response than the no-auth route's.
 */
@Injectable()
export class RefuseAllGuard implements CanActivate {
  canActivate(): boolean {
    throw new UnauthorizedException();
  }
}
