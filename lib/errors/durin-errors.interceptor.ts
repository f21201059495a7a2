import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { catchError, Observable, throwError } from 'rxjs';
import { DurinError } from './durin.error';
import { DurinUnavailableException, toDurinHttpException } from './durin-http.exception';
import { getDurinResponse } from '../http/execution-context';
import { setResponseHeaders } from '../http/response-headers';

/** Every answer here is about a session (tokens, ids, devices): no cache may keep it. */
const NO_STORE = { 'Cache-Control': 'no-store' };

/**
 * Response headers and error handling of the ready-made routes, exported for the app's own
 * session endpoints (login above all) so they answer the same way:
 *
 * @example
 * @UseInterceptors(DurinErrorsInterceptor)
 * @Controller('auth')
 * export class LoginController {}
 *
 * Every response, errors included, is `Cache-Control: no-store`. Errors of nestjs-durin carry
 * their status and body; their headers (`WWW-Authenticate`, `Retry-After`) are put on the response
 * here, before Nest's exception filter renders the body. Only a store failure
 * (`TokenStoreUnavailableError`, which the token service raises for every failing or timed-out
 * database call) is a 503, and it is logged without the request. Anything else that is not an
 * HTTP error is a bug, not an outage: it goes on to Nest as a 500 rather than telling clients to
 * retry something that will never work.
 */
@Injectable()
export class DurinErrorsInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Durin');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = getDurinResponse(context);
    // Before the handler: the header then rides along on its answer and on any error's.
    setResponseHeaders(response, NO_STORE);
    return next.handle().pipe(
      catchError((error: unknown) => {
        const mapped = toDurinHttpException(error) ?? error;
        if (mapped instanceof DurinUnavailableException) {
          this.logger.error(`token store failure: ${innermostMessage(error)}`);
        }
        if (mapped instanceof DurinError) {
          setResponseHeaders(response, mapped.headers);
        }
        return throwError(() => mapped);
      }),
    );
  }
}

/** The message of the deepest `cause` (the driver's own words), not of our wrappers. */
function innermostMessage(error: unknown): string {
  let current = error;
  for (
    let depth = 0;
    depth < 5 && current instanceof Error && current.cause !== undefined;
    depth++
  ) {
    current = current.cause;
  }
  return current instanceof Error ? current.message : String(current);
}
