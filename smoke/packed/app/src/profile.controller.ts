import { Controller, Get, UseGuards } from '@nestjs/common';
import { AuthGuard, AuthToken, AuthTokenEntity, CurrentUser } from 'nestjs-durin';
import { User } from './user.entity';

@UseGuards(AuthGuard)
@Controller('profile')
export class ProfileController {
  @Get()
  me(@CurrentUser() user: User, @AuthToken() token: AuthTokenEntity): object {
    return { email: user.email, session: token.id };
  }
}
