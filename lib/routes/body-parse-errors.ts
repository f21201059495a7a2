import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DURIN_ROUTES_LOGIN, DURIN_ROUTES_PATH } from '../durin.constants';
import { DurinErrorBody } from '../errors/durin.error';

/**
 * A body the platform cannot parse (`{"a":`, and on Express `null` or a bare JSON string, which
 * its strict JSON parser refuses) fails before any route, guard or interceptor runs, so Nest
 * answers it in its own format, without a `code` and quoting part of the input. For the ready-made
 * routes this installs, on the platform itself, the answer the routes give to every other bad
 * body: 400 `invalid_request` in the library's error body. Other routes of the app are untouched.
 */

const INVALID_BODY: DurinErrorBody = {
  statusCode: 400,
  error: 'Bad Request',
  message: 'The request body is not valid JSON.',
  code: 'invalid_request',
};
const INVALID_BODY_JSON = JSON.stringify(INVALID_BODY);

/** The routes of `DurinRoutesController`, after `<path>/` (parameters as one segment). */
const ROUTE_TAILS = 'refresh|renew|logout|logoutall|apiaccess|sessions(?:/[^/]+)?';

/**
 * Matches the end of the URL path: a global prefix, a version segment or a `RouterModule` path may
 * stand before the routes' own path, and the parse error comes before Nest's routing could say
 * which route the request was for.
 */
export function routesPathPattern(path: string, login = false): RegExp {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  const escaped = trimmed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const base = escaped === '' ? '' : `/${escaped}`;
  // `login` only when the library mounts it: otherwise that path is the app's own login route.
  const tails = login ? `${ROUTE_TAILS}|login` : ROUTE_TAILS;
  return new RegExp(`${base}/(?:${tails})/?$`);
}

function pathOf(url: unknown): string {
  if (typeof url !== 'string') return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

interface ExpressAppLike {
  use(
    handler: (error: unknown, req: unknown, res: unknown, next: (e?: unknown) => void) => void,
  ): unknown;
}

interface NodeResLike {
  headersSent: boolean;
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

interface FastifyLike {
  addHook(name: string, hook: (...args: never[]) => unknown): unknown;
}

interface FastifyRequestLike {
  url: string;
}

interface FastifyReplyLike {
  statusCode: number;
  header(name: string, value: string): unknown;
}

/** body-parser's mark on a body it could not parse (strict mode: not an object or array). */
function isExpressParseError(error: unknown): boolean {
  return (error as { type?: unknown } | null)?.type === 'entity.parse.failed';
}

/** Fastify's content-type parser errors (`FST_ERR_CTP_INVALID_JSON_BODY`, empty JSON body, …). */
function isFastifyParseError(error: unknown): boolean {
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  return (
    statusCode === 400 &&
    ((typeof code === 'string' && code.startsWith('FST_ERR_CTP_')) || error instanceof SyntaxError)
  );
}

const PARSE_FAILED = Symbol('durin.bodyParseFailed');

@Injectable()
export class DurinRoutesBodyErrors implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    // The path of the routes next to it: the shorthand's `routes.path`, or the one given to
    // `DurinRoutesModule.register()`, which the module's options do not know.
    @Inject(DURIN_ROUTES_PATH) private readonly routesPath: string,
    @Optional() @Inject(DURIN_ROUTES_LOGIN) private readonly withLogin: boolean = false,
  ) {}

  /**
   * Runs after the body parsers and routes are registered and before Nest adds its own error
   * handler, so on Express this handler sees parse errors first.
   */
  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter === undefined) return;
    const ours = routesPathPattern(this.routesPath, this.withLogin);
    const type = adapter.getType();
    if (type === 'express') {
      this.installOnExpress(adapter.getInstance<ExpressAppLike>(), ours);
    } else if (type === 'fastify') {
      this.installOnFastify(adapter.getInstance<FastifyLike>(), ours);
    }
  }

  private installOnExpress(app: ExpressAppLike, ours: RegExp): void {
    app.use((error, req, res, next) => {
      const response = res as NodeResLike;
      if (
        !isExpressParseError(error) ||
        response.headersSent ||
        !ours.test(pathOf((req as { originalUrl?: unknown }).originalUrl))
      ) {
        next(error);
        return;
      }
      response.statusCode = 400;
      response.setHeader('Content-Type', 'application/json; charset=utf-8');
      response.setHeader('Cache-Control', 'no-store');
      response.end(INVALID_BODY_JSON);
    });
  }

  private installOnFastify(fastify: FastifyLike, ours: RegExp): void {
    // Fastify runs `onError` hooks before the error handler (Nest's) and lets no hook answer
    // there, so the parse error is only noted, and the answer is swapped in `onSend`.
    fastify.addHook('onError', ((
      request: FastifyRequestLike,
      _reply: unknown,
      error: unknown,
      done: () => void,
    ) => {
      if (isFastifyParseError(error) && ours.test(pathOf(request.url))) {
        (request as unknown as Record<symbol, boolean>)[PARSE_FAILED] = true;
      }
      done();
    }) as never);
    fastify.addHook('onSend', ((
      request: FastifyRequestLike,
      reply: FastifyReplyLike,
      payload: unknown,
      done: (error: null, payload: unknown) => void,
    ) => {
      if ((request as unknown as Record<symbol, boolean>)[PARSE_FAILED] !== true) {
        done(null, payload);
        return;
      }
      reply.statusCode = 400;
      reply.header('content-type', 'application/json; charset=utf-8');
      reply.header('cache-control', 'no-store');
      done(null, INVALID_BODY_JSON);
    }) as never);
  }
}
