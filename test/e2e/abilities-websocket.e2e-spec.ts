import { type INestApplication, UseFilters, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type OnGatewayConnection, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import type { Socket } from 'socket.io';
import { DataSource } from 'typeorm';
import {
  AuthGuard,
  AuthToken,
  AuthTokenEntity,
  DurinModule,
  DurinWsExceptionFilter,
  extractHeaderToken,
  Public,
  RequireAbilities,
  TokenService,
} from '../../lib';
import { silentLogger, typeOrmOptions } from '../integration/support/durin-test-app';
import { User } from '../integration/support/user.entity';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases';
import { HTTP_ADAPTER_KINDS, type HttpAdapterKind, startHttpApp } from '../support/http-app';

/**
 * A gateway as an app would write it: the handshake's token is checked on connection (a socket
 * without a valid one is closed), and every message goes through the guard again, so a token
 * revoked while the socket is open stops working at the next message.
 */
@UseFilters(DurinWsExceptionFilter)
@UseGuards(AuthGuard)
@WebSocketGateway({ path: '/ws' })
class OrdersGateway implements OnGatewayConnection {
  constructor(private readonly tokens: TokenService) {}

  async handleConnection(client: Socket): Promise<void> {
    const header = extractHeaderToken(client.handshake.headers.authorization, ['Bearer']);
    const token =
      header.kind === 'token' ? await this.tokens.verifyToken(header.token, 'header') : null;
    if (token === null) client.disconnect(true);
  }

  @SubscribeMessage('whoami')
  whoami(@AuthToken() token: AuthTokenEntity) {
    return { tokenId: token.id, abilities: token.abilities };
  }

  /** Open to any connected socket: shows what the handshake holds now. */
  @Public()
  @SubscribeMessage('peek')
  peek(@AuthToken() token: AuthTokenEntity | undefined) {
    return { tokenId: token?.id ?? null };
  }

  @RequireAbilities('orders:read')
  @SubscribeMessage('orders')
  orders() {
    return { orders: ['tea'] };
  }

  @RequireAbilities('orders:write')
  @SubscribeMessage('createOrder')
  createOrder() {
    return { created: true };
  }
}

const MATRIX: Array<[HttpAdapterKind, TestDbKind]> = HTTP_ADAPTER_KINDS.flatMap((adapter) =>
  (['sqlite', 'postgres'] as const).map((kind): [HttpAdapterKind, TestDbKind] => [adapter, kind]),
);

describe.each(MATRIX)('abilities on a socket.io gateway over %s on %s', (adapter, kind) => {
  let db: TestDatabase;
  let app: INestApplication;
  let tokens: TokenService<AuthTokenEntity>;
  let userId: number;
  let url: string;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(typeOrmOptions(db)),
        DurinModule.forRoot({ userEntity: User }),
      ],
      providers: [OrdersGateway],
    })
      .setLogger(silentLogger)
      .compile();
    app = await startHttpApp(moduleRef, adapter);
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as { address(): { port: number } }).address();
    url = `http://127.0.0.1:${port}`;
    tokens = app.get(TokenService);
    userId = (await app.get(DataSource).getRepository(User).save({ email: 'ws@example.com' })).id;
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.disconnect();
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  /** Connects with `authorization`; resolves once connected, or with the reason it was closed. */
  function connect(authorization?: string): Promise<{ socket: ClientSocket; closed?: string }> {
    const socket = io(url, {
      path: '/ws',
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: authorization === undefined ? {} : { authorization },
    });
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect_error', reject);
      socket.once('disconnect', (reason) => resolve({ socket, closed: reason }));
      // The server closes an unauthenticated socket right after accepting it: only an answer to
      // a first message shows that the connection is good.
      socket.once('connect', () => {
        socket.emit('whoami', {}, () => resolve({ socket }));
      });
    });
  }

  /** The reply to `event`, or the `exception` the server sent instead. */
  function send(
    socket: ClientSocket,
    event: string,
  ): Promise<{ reply?: unknown; exception?: unknown }> {
    return new Promise((resolve) => {
      const onException = (exception: unknown) => resolve({ exception });
      socket.once('exception', onException);
      socket.emit(event, {}, (reply: unknown) => {
        socket.off('exception', onException);
        resolve({ reply });
      });
    });
  }

  async function login(abilities?: string[]) {
    const set = await tokens.generateHeaderToken({ id: userId }, { abilities });
    return { set, authorization: `Bearer ${set.accessToken}` };
  }

  it('closes a socket whose handshake has no valid token', async () => {
    expect((await connect()).closed).toBe('io server disconnect');
    expect((await connect('Bearer durin_at_nope')).closed).toBe('io server disconnect');
  });

  it('answers messages the token has the abilities for, with the token of the handshake', async () => {
    const { set, authorization } = await login(['orders:read']);
    const { socket, closed } = await connect(authorization);
    expect(closed).toBeUndefined();
    expect(await send(socket, 'whoami')).toEqual({
      reply: { tokenId: set.token.id, abilities: ['orders:read'] },
    });
    expect(await send(socket, 'orders')).toEqual({ reply: { orders: ['tea'] } });
  });

  it('refuses a message needing an ability the token lacks with insufficient_scope', async () => {
    const { authorization } = await login(['orders:read']);
    const { socket } = await connect(authorization);
    expect(await send(socket, 'createOrder')).toEqual({
      exception: {
        statusCode: 403,
        error: 'Forbidden',
        message: 'This token lacks an ability this route requires.',
        code: 'insufficient_scope',
      },
    });
    // The socket stays usable for what the token may do.
    expect(await send(socket, 'orders')).toEqual({ reply: { orders: ['tea'] } });
  });

  it('refuses the next message once the token is revoked while the socket is open', async () => {
    const { set, authorization } = await login();
    const { socket } = await connect(authorization);
    expect(await send(socket, 'createOrder')).toEqual({ reply: { created: true } });
    expect(await send(socket, 'peek')).toEqual({ reply: { tokenId: set.token.id } });
    expect(await tokens.revokeToken(set.token.id)).toBe(true);
    expect(await send(socket, 'orders')).toEqual({
      exception: {
        statusCode: 401,
        error: 'Unauthorized',
        message: 'Invalid token.',
        code: 'token_invalid',
      },
    });
    // The refused message took the revoked token off the handshake: nothing stale is left.
    expect(await send(socket, 'peek')).toEqual({ reply: { tokenId: null } });
  });
});
