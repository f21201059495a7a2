import { Injectable } from '@nestjs/common';
import { AuthType, TokenService, TokenSet, UnknownClientError } from '../../../lib';
import { API_ACCESS_CLIENT } from '../sample.constants';
import { toPublicUser, PublicUser } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { LoginDto } from './login.dto';
import { invalidCredentials, unknownClient } from './login-errors';

/** Who is logging in from where: stored as the session's context, shown in `/auth/sessions`. */
export interface LoginDevice {
  userAgent: string | undefined;
  ip: string | undefined;
}

/** A successful login: the tokens (shown once) and the user they belong to. */
export interface LoginResult {
  tokens: TokenSet;
  user: PublicUser;
}

/** Longer user agents are cut: the context is stored with every session. */
const USER_AGENT_MAX = 256;

@Injectable()
export class LoginService {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokenService,
  ) {}

  /**
   * Checks the credentials and issues a token that works only where `authType` says (header or
   * cookie). The client is checked first: naming a client is not a secret.
   */
  async login(dto: LoginDto, authType: AuthType, device: LoginDevice): Promise<LoginResult> {
    // Personal API keys come from /auth/apiaccess only, never from a password login.
    if (dto.client === API_ACCESS_CLIENT || !(await this.tokens.getClient(dto.client))) {
      throw unknownClient(dto.client);
    }
    const user = await this.users.verifyCredentials(dto.username, dto.password);
    if (!user) {
      throw invalidCredentials();
    }
    const options = {
      client: dto.client,
      ...(dto.abilities === undefined ? {} : { abilities: dto.abilities }),
      context: {
        userAgent: (device.userAgent ?? 'unknown').slice(0, USER_AGENT_MAX),
        ip: device.ip ?? 'unknown',
      },
    };
    try {
      const tokens =
        authType === 'cookie'
          ? await this.tokens.generateCookieToken(user, options)
          : await this.tokens.generateHeaderToken(user, options);
      return { tokens, user: toPublicUser(user) };
    } catch (error) {
      // The client was deleted between the check and the insert.
      if (error instanceof UnknownClientError) {
        throw unknownClient(dto.client);
      }
      throw error;
    }
  }
}
