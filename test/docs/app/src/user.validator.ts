import { Injectable } from '@nestjs/common';
import type { DurinLoginCredentials, DurinUserValidator } from '../../../../lib';
import { User } from './users/user.entity';

/** The reader's password check (docs/guide.md shows a real one). */
@Injectable()
export class UserValidator implements DurinUserValidator<User> {
  async validateUser(_credentials: DurinLoginCredentials): Promise<User | null> {
    return null;
  }
}
