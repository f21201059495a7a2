import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DurinModule } from 'nestjs-durin';
import { AuthController } from './auth.controller';
import { ProfileController } from './profile.controller';
import { User } from './user.entity';

@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'sqljs',
      autoLoadEntities: true,
      synchronize: true,
    }),
    TypeOrmModule.forFeature([User]),
    DurinModule.forRoot({ userEntity: User, routes: { path: 'auth' } }),
  ],
  controllers: [AuthController, ProfileController],
})
export class AppModule {}
