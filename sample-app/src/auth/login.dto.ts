import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

/** Body of `POST /auth/login` and `POST /auth/login/cookie`. */
export class LoginDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(150)
  username!: string;

  @IsString()
  @IsNotEmpty()
  // bcrypt only reads the first 72 bytes; the cap keeps hashing cheap for hostile input.
  @MaxLength(256)
  password!: string;

  /** A client seeded by the app: `web` or `mobile`. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  client!: string;
}
