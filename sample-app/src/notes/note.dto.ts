import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

/** Body of `POST /notes`. */
export class CreateNoteDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  text!: string;
}
