import { connect, createServer, type Server, type Socket } from 'node:net';
import type { PostgresTestOptions, TestDatabase } from './databases';

/** Where a {@link TcpProxy} forwards its connections. */
export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * A TCP proxy on 127.0.0.1 for fault injection: put it between one app and the shared database
 * server to simulate an outage, a hang or a slow network for that app only.
 *
 * @example
 * const proxy = new TcpProxy({ host: '127.0.0.1', port: 5432 });
 * await proxy.start();
 * // connect through proxy.port, then:
 * proxy.cutAll(); // outage: live connections reset, new ones refused
 * proxy.restore();
 * await proxy.close();
 */
export class TcpProxy {
  private server: Server | undefined;
  private listeningPort: number | undefined;
  private readonly links = new Set<Link>();
  private refusing = false;
  // Shared by reference with every link, which consult it on each pump.
  private readonly state: FlowState = { stalled: false, latencyMs: 0 };
  private accepted = 0;

  constructor(private readonly target: ProxyTarget) {}

  /** The local port clients should connect to. */
  get port(): number {
    if (this.listeningPort === undefined) throw new Error('TcpProxy.start() has not completed');
    return this.listeningPort;
  }

  /** Connections currently being forwarded. */
  get activeConnections(): number {
    return this.links.size;
  }

  /** Connections accepted and forwarded since start (refused ones are not counted). */
  get totalConnections(): number {
    return this.accepted;
  }

  /** Listens on a free port of 127.0.0.1 and resolves with it. */
  async start(): Promise<number> {
    if (this.server !== undefined) return this.port;
    // allowHalfOpen: a side that finished sending may still receive; we end each direction
    // ourselves once its queued data is delivered.
    const server = createServer({ allowHalfOpen: true }, (client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') {
      throw new Error('TcpProxy could not read its listening address');
    }
    this.listeningPort = address.port;
    return address.port;
  }

  /**
   * Simulates the database going away: resets every live connection and resets each new one on
   * arrival until {@link restore}. Clients see ECONNRESET / "connection terminated" at once.
   */
  cutAll(): void {
    this.refusing = true;
    for (const link of this.links) link.reset();
  }

  /** Ends {@link cutAll}: new connections are forwarded again (cut ones stay cut). */
  restore(): void {
    this.refusing = false;
  }

  /**
   * Simulates a hung network or server: connections stay open and new ones are accepted, but no
   * byte moves in either direction until {@link resume}. Clients wait for their own timeouts.
   */
  pause(): void {
    this.state.stalled = true;
    for (const link of this.links) link.pump();
  }

  /** Ends {@link pause}; everything held back is delivered in order. */
  resume(): void {
    this.state.stalled = false;
    for (const link of this.links) link.pump();
  }

  /** Delays every chunk, in each direction, by `ms` (0 turns it off). Order is preserved. */
  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`Invalid latency: ${ms}`);
    this.state.latencyMs = ms;
  }

  /** Resets all connections and stops listening. */
  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    for (const link of this.links) link.reset();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    this.accepted += 1;
    const upstream = connect({
      host: this.target.host,
      port: this.target.port,
      allowHalfOpen: true,
    });
    const link = new Link(client, upstream, this.state);
    this.links.add(link);
    link.onClosed(() => this.links.delete(link));
  }
}

interface FlowState {
  stalled: boolean;
  latencyMs: number;
}

/** One proxied connection: a client socket, its upstream socket and a queue each way. */
class Link {
  private readonly up: Direction;
  private readonly down: Direction;
  private closedSides = 0;
  private closedListener: () => void = () => undefined;
  private torn = false;
  private finished = false;

  constructor(
    private readonly client: Socket,
    private readonly upstream: Socket,
    state: Readonly<FlowState>,
  ) {
    this.up = new Direction(client, upstream, state);
    this.down = new Direction(upstream, client, state);
    for (const [socket, from] of [
      [client, this.up],
      [upstream, this.down],
    ] as const) {
      socket.setNoDelay(true);
      // Any socket error ends the whole link, like a broken connection would.
      socket.on('error', () => this.reset());
      socket.on('close', () => {
        // A side that vanished without a clean end (RST, crash) takes the other with it.
        if (!from.ended) this.reset();
        this.closedSides += 1;
        if (this.closedSides === 2) this.finish();
      });
    }
  }

  /** Called once, when both sockets have closed or the link was reset. */
  onClosed(listener: () => void): void {
    this.closedListener = listener;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.closedListener();
  }

  pump(): void {
    this.up.pump();
    this.down.pump();
  }

  /** Drops both sides with a TCP reset, discarding anything still queued. */
  reset(): void {
    if (this.torn) return;
    this.torn = true;
    this.up.discard();
    this.down.discard();
    for (const socket of [this.client, this.upstream]) {
      if (!socket.destroyed) socket.resetAndDestroy();
    }
    // Count it as gone now, not when the close events arrive, so a test can assert right after
    // cutAll() that nothing is connected.
    this.finish();
  }
}

/** Forwards bytes from one socket to another, honouring pause, latency and backpressure. */
class Direction {
  private readonly queue: Array<{ chunk: Buffer; dueAt: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private waitingForDrain = false;
  private lastDueAt = 0;
  ended = false;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly state: Readonly<FlowState>,
  ) {
    from.on('data', (chunk: Buffer) => {
      // Never schedule a chunk before the one ahead of it, even if latency was lowered meanwhile.
      const dueAt = Math.max(Date.now() + this.state.latencyMs, this.lastDueAt);
      this.lastDueAt = dueAt;
      this.queue.push({ chunk, dueAt });
      this.pump();
    });
    from.on('end', () => {
      this.ended = true;
      this.pump();
    });
    to.on('drain', () => {
      this.waitingForDrain = false;
      this.pump();
    });
  }

  pump(): void {
    if (this.to.destroyed) return;
    const { stalled } = this.state;
    while (!stalled && !this.waitingForDrain && this.queue.length > 0) {
      const head = this.queue[0]!;
      const wait = head.dueAt - Date.now();
      if (wait > 0) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        break;
      }
      this.queue.shift();
      if (!this.to.write(head.chunk)) this.waitingForDrain = true;
    }
    // Stop reading while stalled or while the far side is slow, so data waits in the kernel
    // buffers (which is what a stalled network looks like to both peers).
    if (stalled || this.waitingForDrain) this.from.pause();
    else if (!this.from.destroyed) this.from.resume();
    if (this.ended && this.queue.length === 0 && !stalled && !this.to.writableEnded) this.to.end();
  }

  discard(): void {
    this.queue.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A database reached through its own {@link TcpProxy}. */
export interface ProxiedDatabase {
  readonly proxy: TcpProxy;
  /** `db.options` with the URL pointing at the proxy; close the proxy after the DataSource. */
  readonly options: PostgresTestOptions;
}

/**
 * Starts a proxy in front of a PostgreSQL test database and returns options that connect
 * through it, so one test's app can lose its database while the shared server keeps running.
 *
 * @example
 * const { proxy, options } = await withPgThroughProxy(db);
 * const app = await createApp({ ...options, entities, synchronize: true });
 * proxy.cutAll();
 * // ... expect 503s ...
 * proxy.restore();
 * await app.close();
 * await proxy.close();
 */
export async function withPgThroughProxy(db: TestDatabase): Promise<ProxiedDatabase> {
  const { options } = db;
  if (options.type !== 'postgres' || options.url === undefined) {
    throw new Error(`withPgThroughProxy needs a PostgreSQL test database, got ${db.kind}`);
  }
  const url = new URL(options.url);
  const proxy = new TcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  await proxy.start();
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return { proxy, options: { ...options, url: url.toString() } };
}
