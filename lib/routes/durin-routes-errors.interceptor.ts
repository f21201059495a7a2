import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { catchError, Observable, throwError } from 'rxjs';
import { DurinError } from '../errors/durin.error';
import {
  DurinHttpException,
  DurinUnavailableException,
  toDurinHttpException,
} from '../errors/durin-http.exception';
import { getDurinResponse } from '../http/execution-context';
import { setResponseHeaders } from '../http/response-headers';

/**
 * Error handling of the ready-made routes (the guard does its own). Errors go through
 * {@link toDurinHttpException}; what is neither an HTTP error nor one of ours can only have come
 * from the database under the token service, so it is a 503 rather than a 500 (fail closed,
 * REQ-FAIL-01) and is logged, without the request. Headers of the error (`WWW-Authenticate`,
 * `Retry-After`) are put on the response before Nest's filter renders the body.
 */
@Injectable()
export class DurinRoutesErrorsInterceptor implements NestInterceptor {
  private readonly logger = new Logger('DurinRoutes');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) => {
        let mapped = toDurinHttpException(error);
        if (mapped === undefined && !(error instanceof DurinError)) {
          mapped = new DurinUnavailableException(error);
        }
        if (mapped instanceof DurinUnavailableException) {
          this.logger.error(`token store failure: ${innermostMessage(error)}`);
        }
        if (mapped instanceof DurinHttpException) {
          setResponseHeaders(getDurinResponse(context), mapped.headers);
        }
        return throwError(() => mapped ?? error);
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
