import {
  Body,
  Controller,
  Header,
  Headers,
  HttpCode,
  HttpStatus,
  Ip,
  Post,
  Res,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  AuthCookieService,
  DurinErrorsInterceptor,
  OriginGuard,
  Public,
  ThrottleAnonymous,
} from '../../../lib';
import { LoginDto } from './login.dto';
import { LoginService } from './login.service';

/**
 * Login stays in the app (only the app knows its users' credentials); everything after it —
 * refresh, renew, logout, sessions — comes from nestjs-durin's ready-made routes under `/auth`.
 */
@Public()
// Logins are anonymous requests: counted per client IP (LOGIN_RATE) when rate limits are on.
@ThrottleAnonymous()
// Retry-After on a 503, no-store on every answer, store failures logged: as the ready-made routes.
@UseInterceptors(DurinErrorsInterceptor)
@Controller('auth')
export class LoginController {
  constructor(
    private readonly logins: LoginService,
    private readonly cookies: AuthCookieService,
  ) {}

  /**
   * A token pair for the `Authorization: Bearer` header: mobile apps, scripts, SPAs that keep
   * tokens in memory.
   */
  @Post('login')
  @HttpCode(HttpStatus.OK)
  // Token responses must not be stored by caches (RFC 6749 §5.1).
  @Header('Cache-Control', 'no-store')
  async login(
    @Body() body: LoginDto,
    @Headers('user-agent') userAgent: string | undefined,
    @Ip() ip: string | undefined,
  ) {
    const { tokens, user } = await this.logins.login(body, 'header', { userAgent, ip });
    return {
      tokenType: 'Bearer',
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      refreshToken: tokens.refreshToken,
      refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
      user,
    };
  }

  /**
   * Tokens in HttpOnly cookies (browsers): neither the access token nor the refresh token reaches
   * scripts, so neither is in the body (the refresh cookie is only sent to `POST /auth/refresh`).
   * The body has the CSRF token that unsafe cookie-authenticated requests must send back in
   * `X-CSRF-Token` (also in the readable CSRF cookie).
   */
  @Post('login/cookie')
  // A cross-site form must not log the browser into someone else's account (login CSRF).
  @UseGuards(OriginGuard)
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  async loginWithCookie(
    @Body() body: LoginDto,
    @Headers('user-agent') userAgent: string | undefined,
    @Ip() ip: string | undefined,
    @Res({ passthrough: true }) response: object,
  ) {
    const { tokens, user } = await this.logins.login(body, 'cookie', { userAgent, ip });
    const csrfToken = this.cookies.setAuthCookie(response, tokens);
    return {
      csrfToken,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
      user,
    };
  }
}
