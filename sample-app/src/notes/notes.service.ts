import { Injectable } from '@nestjs/common';

export interface Note {
  id: number;
  text: string;
  createdAt: Date;
}

/** At most this many notes per user: the store is memory, and a sample must not grow without end. */
const NOTES_PER_USER = 100;

/**
 * Notes per user, in memory: enough to show routes guarded by abilities without a migration of
 * their own. A restart forgets them.
 */
@Injectable()
export class NotesService {
  private readonly byUser = new Map<number, Note[]>();
  private nextId = 1;

  list(userId: number): Note[] {
    return [...(this.byUser.get(userId) ?? [])];
  }

  add(userId: number, text: string): Note {
    const notes = this.byUser.get(userId) ?? [];
    const note = { id: this.nextId++, text, createdAt: new Date() };
    this.byUser.set(userId, [note, ...notes].slice(0, NOTES_PER_USER));
    return note;
  }
}
