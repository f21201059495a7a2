/**
 * The reader's app around the docs' code blocks: names a snippet uses without defining them
 * because every real app has them (test/docs/code-blocks.spec.ts imports them into each block that
 * neither imports nor declares them). Real classes, so decorators and DI metadata type-check; the
 * variables are declarations only, as a snippet's "given a tokenService…".
 */
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Column, Entity, MigrationInterface, PrimaryGeneratedColumn, Repository } from 'typeorm';
import type { Observable } from 'rxjs';
import type { TokenService } from '../../../../lib';
import { User } from './users/user.entity';

export { User };

/** A second user table, for the named-instance examples. */
@Entity('admin')
export class Admin {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 150 })
  email!: string;
}

/** One of the app's own interceptors. */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

/** The app's own first migration (the user table), which runs before durin's. */
export class CreateUsers1700000000000 implements MigrationInterface {
  async up(): Promise<void> {}
  async down(): Promise<void> {}
}

export declare const tokenService: TokenService<User>;
export declare const tokens: TokenService<User>;
export declare const user: User;
export declare const config: ConfigService;
/** The app's user repository. */
export declare const users: Repository<User>;
