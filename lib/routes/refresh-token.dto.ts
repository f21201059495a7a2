import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { MAX_TOKEN_LENGTH } from '../credentials/credential-result';

/** Body of `POST <path>/refresh`. */
export class RefreshTokenDto {
  /** The refresh token handed out at login or by the previous refresh. */
  @IsString()
  @IsNotEmpty()
  // Same cap as access tokens: a 10 KB string is a 400 before anything is hashed (REQ-RT-07).
  @MaxLength(MAX_TOKEN_LENGTH)
  refreshToken!: string;
}
