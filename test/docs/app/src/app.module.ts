import { Module } from '@nestjs/common';

/** The reader's root module. */
@Module({})
export class AppModule {}
