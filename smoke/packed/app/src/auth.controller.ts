import { Body, Controller, HttpCode, Post, UnauthorizedException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { timingSafeEqual } from 'node:crypto';
import { Public, TokenService, TokenSet } from 'nestjs-durin';
import { Repository } from 'typeorm';
import { User } from './user.entity';

function samePassword(given: unknown, stored: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The app's own login, as the README's quick start has it: the library only issues the token. */
@Controller('auth')
export class AuthController {
  constructor(
    private readonly tokens: TokenService<User>,
    @InjectRepository(User) private readonly users: Repository<User>,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  async login(@Body() body: { email?: unknown; password?: unknown }): Promise<TokenSet> {
    const user =
      typeof body.email === 'string' ? await this.users.findOneBy({ email: body.email }) : null;
    if (user === null || !samePassword(body.password, user.password)) {
      throw new UnauthorizedException();
    }
    return this.tokens.generateHeaderToken(user);
  }
}
