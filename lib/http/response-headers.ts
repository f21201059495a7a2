/**
 * Writing headers on whatever response object Nest hands out: an Express response (a Node
 * `ServerResponse`), a Fastify reply, or a bare `ServerResponse`. Detected by shape so that neither
 * platform package has to be installed.
 */

interface FastifyReplyLike {
  raw: unknown;
  sent?: boolean;
  header(name: string, value: unknown): unknown;
  getHeader(name: string): unknown;
  removeHeader(name: string): unknown;
}

interface NodeResponseLike {
  headersSent?: boolean;
  setHeader(name: string, value: string | string[]): unknown;
  getHeader(name: string): unknown;
}

function isFastifyReply(value: unknown): value is FastifyReplyLike {
  const reply = value as Partial<FastifyReplyLike> | null;
  return (
    typeof reply === 'object' &&
    reply !== null &&
    typeof reply.raw === 'object' &&
    typeof reply.header === 'function' &&
    typeof reply.getHeader === 'function' &&
    typeof reply.removeHeader === 'function'
  );
}

function isNodeResponse(value: unknown): value is NodeResponseLike {
  const response = value as Partial<NodeResponseLike> | null;
  return (
    typeof response === 'object' &&
    response !== null &&
    typeof response.setHeader === 'function' &&
    typeof response.getHeader === 'function'
  );
}

/**
 * Which kind of response this is. Node's shape is tested first: it is what Express hands out, and
 * on a hit-heavy path a property a `ServerResponse` lacks (`raw`) is a slow miss along its whole
 * prototype chain. A Fastify reply has no `setHeader`, so the order decides nothing else.
 */
function kindOf(response: unknown): 'node' | 'fastify' | undefined {
  if (isNodeResponse(response)) return 'node';
  return isFastifyReply(response) ? 'fastify' : undefined;
}

function writable(response: unknown, kind: 'node' | 'fastify' | undefined): boolean {
  if (kind === 'node') return !(response as NodeResponseLike).headersSent;
  if (kind === 'fastify') {
    // Writing to a reply that was sent throws in Fastify; treat it like "no HTTP response".
    const reply = response as FastifyReplyLike;
    return !reply.sent && !(reply.raw as { headersSent?: boolean }).headersSent;
  }
  return false;
}

/** Whether headers can still be written on `response`. */
export function canWriteHeaders(response: unknown): boolean {
  return writable(response, kindOf(response));
}

/** Sets (replaces) one header. Returns `false` when `response` cannot take headers. */
export function setResponseHeader(response: unknown, name: string, value: string): boolean {
  const kind = kindOf(response);
  if (!writable(response, kind)) return false;
  if (kind === 'fastify') {
    (response as FastifyReplyLike).header(name, value);
  } else {
    (response as NodeResponseLike).setHeader(name, value);
  }
  return true;
}

/** Sets every header of `headers`; see {@link setResponseHeader}. */
export function setResponseHeaders(
  response: unknown,
  headers: Readonly<Record<string, string>>,
): boolean {
  let written = true;
  for (const [name, value] of Object.entries(headers)) {
    written = setResponseHeader(response, name, value) && written;
  }
  return written;
}

/**
 * Adds a `Set-Cookie` header for `cookieName`, dropping any earlier one for the same name in this
 * response, so a request that both slides and clears the cookie (logout after auto-refresh) sends
 * one unambiguous instruction. Cookies of other names are kept.
 * Returns `false` when `response` cannot take headers.
 */
export function putSetCookie(response: unknown, cookieName: string, serialized: string): boolean {
  const kind = kindOf(response);
  if (!writable(response, kind)) return false;
  const fastify = kind === 'fastify';
  const current = (response as NodeResponseLike | FastifyReplyLike).getHeader('set-cookie');
  const prefix = `${cookieName}=`;
  const kept = toList(current).filter((line) => !line.startsWith(prefix));
  const next = [...kept, serialized];
  if (fastify) {
    // Fastify appends on every `header('set-cookie', …)`: clear first, then set the full list.
    const reply = response as FastifyReplyLike;
    reply.removeHeader('set-cookie');
    reply.header('set-cookie', next);
  } else {
    (response as NodeResponseLike).setHeader('Set-Cookie', next);
  }
  return true;
}

function toList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return value === undefined || value === null ? [] : [String(value)];
}
