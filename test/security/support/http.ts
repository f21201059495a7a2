import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

/** A response as the security tests look at it: status, headers, body bytes and timing. */
export interface HttpResult {
  status: number;
  /** Lower-cased names; repeated fields (Set-Cookie) keep every value. */
  headers: Record<string, string[]>;
  /** The header lines as sent, in order, names as written by the server. */
  rawHeaders: Array<[string, string]>;
  body: Buffer;
  /** `performance.now()` when the request was started and when the response was complete. */
  tStart: number;
  tEnd: number;
}

/** First value of a header, or `undefined`. */
export function header(result: HttpResult, name: string): string | undefined {
  return result.headers[name.toLowerCase()]?.[0];
}

/** The body parsed as JSON, or `undefined` when it is not JSON. */
export function json(result: HttpResult): unknown {
  try {
    return JSON.parse(result.body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The `code` of a nestjs-durin error body, if any. */
export function codeOf(result: HttpResult): string | undefined {
  const body = json(result);
  return typeof body === 'object' && body !== null && 'code' in body
    ? String((body as { code: unknown }).code)
    : undefined;
}

export interface RequestSpec {
  method?: string;
  path: string;
  /** Header lines in order; a name may repeat (two `Authorization` lines). */
  headers?: Array<[string, string]>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
}

/**
 * One HTTP/1.1 request written byte for byte on a fresh socket (`Connection: close`), so a test
 * can send what Node's client refuses to: repeated `Authorization` fields, raw UTF-8 or NUL bytes
 * in a header, a 20 KB header. Header values are written as UTF-8; a `\r` or `\n` in them is
 * the caller's business (header injection is then what gets tested).
 */
export function rawRequest(
  port: number,
  spec: RequestSpec,
  timeoutMs = 10_000,
): Promise<HttpResult> {
  const method = spec.method ?? 'GET';
  const lines = [`${method} ${spec.path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close'];
  for (const [name, value] of spec.headers ?? []) lines.push(`${name}: ${value}`);
  let body: Buffer | undefined;
  if (spec.body !== undefined) {
    body = Buffer.from(
      typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body),
      'utf8',
    );
    if (!(spec.headers ?? []).some(([name]) => name.toLowerCase() === 'content-type')) {
      lines.push('Content-Type: application/json');
    }
    lines.push(`Content-Length: ${body.length}`);
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
  return rawExchange(port, body === undefined ? head : Buffer.concat([head, body]), timeoutMs);
}

/** Sends `bytes` on a new connection and parses the one response that comes back. */
export function rawExchange(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<HttpResult> {
  const tStart = performance.now();
  return new Promise<HttpResult>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) {
        reject(error);
        return;
      }
      try {
        resolve({ ...parseResponse(Buffer.concat(chunks)), tStart, tEnd: performance.now() });
      } catch (parseError) {
        reject(parseError as Error);
      }
    };
    const timer = setTimeout(
      () => finish(new Error(`no complete response within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // Servers answering an oversized request may keep the socket half open: stop as soon as
      // the response is complete instead of waiting for the close.
      if (isComplete(Buffer.concat(chunks))) finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (error) => {
      // A server that answered and then reset the connection (431, 400) still answered.
      if (chunks.length > 0 && isComplete(Buffer.concat(chunks))) finish();
      else finish(error);
    });
    socket.write(bytes);
  });
}

function splitHead(data: Buffer): { head: string; rest: Buffer } | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  return { head: data.subarray(0, end).toString('latin1'), rest: data.subarray(end + 4) };
}

function isComplete(data: Buffer): boolean {
  const parts = splitHead(data);
  if (parts === undefined) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(parts.head);
  if (length) return parts.rest.length >= Number(length[1]);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(parts.head)) {
    return parts.rest.includes(Buffer.from('0\r\n\r\n'));
  }
  // Node's own 400/431 (and bodiless statuses) come without framing and without a body.
  return /^HTTP\/1\.[01] (1\d\d|204|304|400|431)/.test(parts.head) && parts.rest.length === 0;
}

function parseResponse(data: Buffer): Omit<HttpResult, 'tStart' | 'tEnd'> {
  const parts = splitHead(data);
  if (parts === undefined) {
    throw new Error(`incomplete HTTP response: ${JSON.stringify(data.toString('latin1'))}`);
  }
  const [statusLine, ...headerLines] = parts.head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string[]> = {};
  const rawHeaders: Array<[string, string]> = [];
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    rawHeaders.push([name, value]);
    (headers[name.toLowerCase()] ??= []).push(value);
  }
  let body = parts.rest;
  if (headers['transfer-encoding']?.[0]?.toLowerCase() === 'chunked') body = dechunk(body);
  const length = headers['content-length']?.[0];
  if (length !== undefined) body = body.subarray(0, Number(length));
  return { status: Number(match[1]), headers, rawHeaders, body };
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/**
 * A keep-alive client for load and races: each call is a normal Node request (so header values are
 * checked by Node), on a pool of up to `maxSockets` connections. A connection error resolves
 * with `status: 0` rather than throwing, so a history can record it.
 */
export class HttpClient {
  private readonly agent: Agent;

  constructor(
    readonly port: number,
    maxSockets = 64,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  request(spec: RequestSpec, timeoutMs = 30_000): Promise<HttpResult> {
    const tStart = performance.now();
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of spec.headers ?? []) {
      const key = name.toLowerCase();
      const existing = headers[key];
      headers[key] =
        existing === undefined
          ? value
          : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    let body: Buffer | undefined;
    if (spec.body !== undefined) {
      body = Buffer.from(
        typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body),
        'utf8',
      );
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(body.length);
    }
    return new Promise<HttpResult>((resolve) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: this.port,
          method: spec.method ?? 'GET',
          path: spec.path,
          headers,
          agent: this.agent,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const grouped: Record<string, string[]> = {};
            const raw: Array<[string, string]> = [];
            for (let i = 0; i < res.rawHeaders.length; i += 2) {
              raw.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
              (grouped[res.rawHeaders[i].toLowerCase()] ??= []).push(res.rawHeaders[i + 1]);
            }
            resolve({
              status: res.statusCode ?? 0,
              headers: grouped,
              rawHeaders: raw,
              body: Buffer.concat(chunks),
              tStart,
              tEnd: performance.now(),
            });
          });
          res.on('error', () => resolve(noResponse(tStart)));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(noResponse(tStart)));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function noResponse(tStart: number): HttpResult {
  return {
    status: 0,
    headers: {},
    rawHeaders: [],
    body: Buffer.alloc(0),
    tStart,
    tEnd: performance.now(),
  };
}
