import { Body, Controller, Get, Post } from '@nestjs/common';
import { AllowClients, CurrentUser, RequireAbilities } from '../../../lib';
import { NOTES_READ, NOTES_WRITE } from '../sample.constants';
import { User } from '../users/user.entity';
import { CreateNoteDto } from './note.dto';
import { Note, NotesService } from './notes.service';

/**
 * Routes guarded by abilities (and, for writing, by client). A read-only token (a login with
 * `"abilities": ["notes:read"]`, or an API key created with them) can list notes but not add one;
 * adding one also needs a login from one of the apps, never an API key.
 */
@Controller('notes')
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  /** 403 `insufficient_scope` without `notes:read`. */
  @RequireAbilities(NOTES_READ)
  @Get()
  list(@CurrentUser() user: User): Note[] {
    return this.notes.list(user.id);
  }

  /** 403 `client_forbidden` from an API key; 403 `insufficient_scope` without `notes:write`. */
  @AllowClients('web', 'mobile')
  @RequireAbilities(NOTES_WRITE)
  @Post()
  add(@CurrentUser() user: User, @Body() body: CreateNoteDto): Note {
    return this.notes.add(user.id, body.text);
  }
}
