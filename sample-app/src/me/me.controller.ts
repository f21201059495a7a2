import { Controller, Get } from '@nestjs/common';
import {
  AuthToken,
  AuthTokenEntity,
  CurrentUser,
  TokenContext,
  TokenContextData,
} from '../../../lib';
import { toPublicUser, User } from '../users/user.entity';

/** Protected by the global guard: every route here needs a token. */
@Controller('me')
export class MeController {
  /** Who the token belongs to, which session it is, and what was recorded at login. */
  @Get()
  me(
    @CurrentUser() user: User,
    @AuthToken() token: AuthTokenEntity,
    @TokenContext() context: Readonly<TokenContextData>,
  ) {
    return {
      user: toPublicUser(user),
      session: {
        id: token.id,
        client: token.client?.name ?? null,
        authType: token.authType,
        createdAt: token.createdAt,
        expiresAt: token.expiresAt,
        refreshExpiresAt: token.refreshExpiresAt,
      },
      context,
    };
  }

  /** One value of the session context. */
  @Get('device')
  device(@TokenContext('userAgent') userAgent: string | undefined) {
    return { userAgent: userAgent ?? null };
  }
}
