import type { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { DurinEventType } from './durin-event.interface';
import { DurinEventsService } from './durin-events.service';

/**
 * Delivers an event about `token` (ids, user id, auth type, client; never a secret). `events` is
 * optional because units built by hand have none; then nothing is delivered.
 */
export function emitTokenEvent(
  events: DurinEventsService | undefined,
  userIdField: string,
  type: DurinEventType,
  token: AbstractAuthToken,
  reason: string | null,
  now: number,
): void {
  events?.emit(type, events.subjectOf(token, userIdField), reason, now);
}
