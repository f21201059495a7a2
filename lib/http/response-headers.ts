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

/** Whether headers can still be written on `response`. */
export function canWriteHeaders(response: unknown): boolean {
  if (isFastifyReply(response)) {
    // Writing to a reply that was sent throws in Fastify; treat it like "no HTTP response".
    return !response.sent && !(response.raw as { headersSent?: boolean }).headersSent;
  }
  return isNodeResponse(response) && !response.headersSent;
}

/** Sets (replaces) one header. Returns `false` when `response` cannot take headers. */
export function setResponseHeader(response: unknown, name: string, value: string): boolean {
  if (!canWriteHeaders(response)) return false;
  if (isFastifyReply(response)) {
    response.header(name, value);
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
  if (!canWriteHeaders(response)) return false;
  const fastify = isFastifyReply(response);
  const current = fastify
    ? response.getHeader('set-cookie')
    : (response as NodeResponseLike).getHeader('set-cookie');
  const prefix = `${cookieName}=`;
  const kept = toList(current).filter((line) => !line.startsWith(prefix));
  const next = [...kept, serialized];
  if (fastify) {
    // Fastify appends on every `header('set-cookie', …)`: clear first, then set the full list.
    response.removeHeader('set-cookie');
    response.header('set-cookie', next);
  } else {
    (response as NodeResponseLike).setHeader('Set-Cookie', next);
  }
  return true;
}

function toList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return value === undefined || value === null ? [] : [String(value)];
}
