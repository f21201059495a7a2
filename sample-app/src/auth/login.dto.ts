import {
  ArrayMaxSize,
  IsArray,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';

/**
 * No control characters: a NUL would reach PostgreSQL as a driver error (a 503 for what is bad
 * input), and no username or client name of ours contains one.
 */
const PRINTABLE = /^[^\p{Cc}]*$/u;

/** Body of `POST /auth/login` and `POST /auth/login/cookie`. */
export class LoginDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(150)
  @Matches(PRINTABLE, { message: 'username must not contain control characters' })
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
  @Matches(PRINTABLE, { message: 'client must not contain control characters' })
  client!: string;

  /**
   * What the token may do, e.g. `["notes:read"]` for a read-only session; default everything.
   * The library checks each name (400 `invalid_scope`); this only keeps the shape sane.
   */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  abilities?: string[];
}
