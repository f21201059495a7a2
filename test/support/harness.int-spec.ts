import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { DataSource, type DataSourceOptions } from 'typeorm';
import {
  createTestDatabase,
  describeEachDb,
  pgAdminUrl,
  postgresOptions,
  type TestDatabase,
} from './databases';
import { PG_URL_ENV } from './pg-env';
import { TcpProxy, withPgThroughProxy } from './tcp-proxy';

/** How long a query may take to fail once its database is cut off; the point is "not a hang". */
const FAST_FAILURE_MS = 5_000;

async function openDataSource(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = new DataSource({ ...options, entities: [], synchronize: false });
  return dataSource.initialize();
}

async function databaseExists(name: string): Promise<boolean> {
  const admin = await openDataSource(postgresOptions(pgAdminUrl()));
  try {
    const rows: unknown[] = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      name,
    ]);
    return rows.length > 0;
  } finally {
    await admin.destroy();
  }
}

async function elapsedMs(work: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await work();
  return Date.now() - started;
}

describe('test database harness', () => {
  describeEachDb('createTestDatabase(%s)', (kind) => {
    it('gives a database that answers queries and can be dropped', async () => {
      const db = await createTestDatabase(kind);
      expect(db.kind).toBe(kind);
      const dataSource = await openDataSource(db.options);
      try {
        await expect(dataSource.query('select 1 as one')).resolves.toEqual([{ one: 1 }]);
      } finally {
        await dataSource.destroy();
        await db.drop();
      }
    });
  });

  describe('postgres', () => {
    it('creates a separate database per call and drops it even with connections left open', async () => {
      const first = await createTestDatabase('postgres');
      const second = await createTestDatabase('postgres');
      expect(first.name).toMatch(/^durin_test_[0-9a-f]{12}$/);
      expect(second.name).not.toBe(first.name);

      const leaked = await openDataSource(first.options);
      const [{ name }] = (await leaked.query('select current_database() as name')) as [
        { name: string },
      ];
      expect(name).toBe(first.name);

      await first.drop();
      await first.drop();
      await second.drop();
      expect(await databaseExists(first.name)).toBe(false);
      expect(await databaseExists(second.name)).toBe(false);
      // The pool's connections were terminated by drop(); destroying it must still succeed.
      await leaked.destroy();
    });

    it('explains a missing server URL instead of skipping', () => {
      const saved = process.env[PG_URL_ENV];
      delete process.env[PG_URL_ENV];
      try {
        expect(() => pgAdminUrl()).toThrow(/DURIN_TEST_PG_URL is not set.*globalSetup/);
      } finally {
        process.env[PG_URL_ENV] = saved;
      }
    });
  });

  describe('TCP proxy in front of postgres', () => {
    let db: TestDatabase;
    let proxy: TcpProxy;
    let dataSource: DataSource;

    beforeEach(async () => {
      db = await createTestDatabase('postgres');
      const proxied = await withPgThroughProxy(db);
      proxy = proxied.proxy;
      expect(proxied.options.url).toContain(`127.0.0.1:${proxy.port}/${db.name}`);
      dataSource = await openDataSource(proxied.options);
    });

    afterEach(async () => {
      proxy.restore();
      proxy.resume();
      if (dataSource.isInitialized) await dataSource.destroy();
      await proxy.close();
      await db.drop();
    });

    it('forwards queries', async () => {
      await expect(dataSource.query('select 1 as one')).resolves.toEqual([{ one: 1 }]);
      expect(proxy.activeConnections).toBeGreaterThan(0);
    });

    it('cutAll makes queries fail fast; restore lets new connections through', async () => {
      await dataSource.query('select 1');

      proxy.cutAll();
      const failing = await elapsedMs(() => expect(dataSource.query('select 1')).rejects.toThrow());
      expect(failing).toBeLessThan(FAST_FAILURE_MS);
      expect(proxy.activeConnections).toBe(0);

      // A fresh app cannot even connect during the outage, and says so quickly.
      const fresh = new DataSource({ ...dataSource.options, entities: [] });
      const refused = await elapsedMs(() => expect(fresh.initialize()).rejects.toThrow());
      expect(refused).toBeLessThan(FAST_FAILURE_MS);

      proxy.restore();
      // The existing pool reconnects by itself once the network is back.
      await expect(dataSource.query('select 2 as two')).resolves.toEqual([{ two: 2 }]);
      const again = await openDataSource(dataSource.options);
      await expect(again.query('select 3 as three')).resolves.toEqual([{ three: 3 }]);
      await again.destroy();
    });

    it('pause stalls traffic until resume', async () => {
      await dataSource.query('select 1');
      proxy.pause();
      let settled = false;
      const pending = dataSource.query('select 42 as answer').finally(() => {
        settled = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false);

      proxy.resume();
      await expect(pending).resolves.toEqual([{ answer: 42 }]);
    });

    it('setLatency delays each direction', async () => {
      await dataSource.query('select 1');
      proxy.setLatency(150);
      const slow = await elapsedMs(() => dataSource.query('select 1'));
      // One round trip: the query waits 150 ms going up and the answer 150 ms coming back.
      expect(slow).toBeGreaterThanOrEqual(290);
      proxy.setLatency(0);
      expect(await elapsedMs(() => dataSource.query('select 1'))).toBeLessThan(150);
    });
  });

  describe('TCP proxy mechanics', () => {
    let echo: Server;
    let proxy: TcpProxy;
    const clients: Socket[] = [];

    beforeEach(async () => {
      echo = createServer((socket) => {
        // The proxy resets upstream sockets on purpose; that must not crash the test process.
        socket.on('error', () => undefined);
        socket.pipe(socket);
      });
      echo.listen(0, '127.0.0.1');
      await once(echo, 'listening');
      proxy = new TcpProxy({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
      await proxy.start();
    });

    afterEach(async () => {
      for (const client of clients.splice(0)) client.destroy();
      await proxy.close();
      await new Promise((resolve) => echo.close(resolve));
    });

    interface Client {
      socket: Socket;
      received: () => string;
      closed: Promise<void>;
    }

    function openClient(): Client {
      const socket = connect(proxy.port, '127.0.0.1');
      clients.push(socket);
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('error', () => undefined);
      // Listen from the start: the close can come before the test gets around to awaiting it.
      // Not events.once(): that rejects on the 'error' a reset connection emits first.
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      return { socket, received: () => text, closed };
    }

    async function openConnected(): Promise<Client> {
      const client = openClient();
      await once(client.socket, 'connect');
      // The proxy counts a connection when it accepts it, which can trail the client's connect.
      await waitFor(() => proxy.activeConnections > 0);
      return client;
    }

    async function waitFor(check: () => boolean, timeoutMs = 2_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error('condition not reached in time');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }

    it('keeps byte order when latency is lowered mid-stream', async () => {
      const { socket, received } = await openConnected();
      proxy.setLatency(200);
      socket.write('a');
      await new Promise((resolve) => setTimeout(resolve, 20));
      proxy.setLatency(0);
      socket.write('b');
      await waitFor(() => received().length === 2);
      expect(received()).toBe('ab');
    });

    it('refuses connections while cut and counts only forwarded ones', async () => {
      const first = await openConnected();
      expect(proxy.totalConnections).toBe(1);
      proxy.cutAll();
      expect(proxy.activeConnections).toBe(0);
      await first.closed;
      await openClient().closed;
      expect(proxy.totalConnections).toBe(1);
      proxy.restore();
      const { socket: ok, received } = await openConnected();
      ok.write('ping');
      await waitFor(() => received() === 'ping');
      expect(proxy.totalConnections).toBe(2);
    });

    it('closes the far side cleanly when the client ends', async () => {
      const { socket, received, closed } = await openConnected();
      socket.end('bye');
      await closed;
      expect(received()).toBe('bye');
      await waitFor(() => proxy.activeConnections === 0);
    });

    it('rejects a negative latency', () => {
      expect(() => proxy.setLatency(-1)).toThrow(RangeError);
    });
  });
});
