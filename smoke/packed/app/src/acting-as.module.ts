import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthToken, AuthTokenEntity, CurrentUser, RequireAbilities } from 'nestjs-durin';
import { actingAs } from 'nestjs-durin/testing';

interface Reader {
  id: number;
  email: string;
}

@Controller('orders')
class OrdersController {
  @RequireAbilities('orders:read')
  @Get()
  list(@CurrentUser() user: Reader, @AuthToken() token: AuthTokenEntity): object {
    return { email: user.email, client: token.client?.name ?? null };
  }

  @RequireAbilities('orders:write')
  @Get('write')
  write(): object {
    return {};
  }
}

/**
 * An app with neither a database nor DurinModule, authenticated by `actingAs` from
 * `nestjs-durin/testing` as a global guard: what a controller test does with `overrideGuard`.
 */
@Module({
  controllers: [OrdersController],
  providers: [
    {
      provide: APP_GUARD,
      useValue: actingAs<Reader>(
        { id: 7, email: 'reader@example.com' },
        { abilities: ['orders:read'], client: 'web' },
      ),
    },
  ],
})
export class ActingAsModule {}
