import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type INestApplication, UseGuards } from '@nestjs/common';
import {
  Args,
  Field,
  GraphQLModule,
  ID,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  AuthGuard,
  AuthToken,
  AuthTokenEntity,
  DurinModule,
  RequireAbilities,
  RequireAnyAbility,
  TokenService,
} from '../../lib';
import { silentLogger, typeOrmOptions } from '../integration/support/durin-test-app';
import { User } from '../integration/support/user.entity';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases';
import { HTTP_ADAPTER_KINDS, type HttpAdapterKind, startHttpApp } from '../support/http-app';

@ObjectType()
class Order {
  @Field(() => ID)
  id!: string;

  @Field()
  item!: string;
}

/** A code-first resolver behind the guard, with abilities on its class and its fields. */
@RequireAnyAbility('orders:read', 'orders:admin')
@UseGuards(AuthGuard)
@Resolver(() => Order)
class OrdersResolver {
  @Query(() => [Order])
  orders(): Order[] {
    return [{ id: '1', item: 'tea' }];
  }

  @RequireAbilities('orders:write')
  @Mutation(() => Order)
  createOrder(@Args('item') item: string): Order {
    return { id: '2', item };
  }

  @Query(() => [String])
  myAbilities(@AuthToken() token: AuthTokenEntity): string[] {
    return token.abilities ?? ['*'];
  }
}

interface GqlResponse {
  data: Record<string, unknown> | null;
  errors?: Array<{
    message: string;
    extensions: { code: string; originalError?: Record<string, unknown> };
  }>;
}

/**
 * `@RequireAbilities` on a real GraphQL server (issue 11): @nestjs/graphql 13 with the Apollo
 * driver and Apollo Server 5 (`@as-integrations/express5` on Express, `@as-integrations/fastify`
 * on Fastify), queried over HTTP.
 */
const MATRIX = HTTP_ADAPTER_KINDS.flatMap((adapter) =>
  (['sqlite', 'postgres'] as const).map((kind): [HttpAdapterKind, TestDbKind] => [adapter, kind]),
);

describe.each(MATRIX)('abilities on GraphQL over %s on %s', (adapter, kind) => {
  let db: TestDatabase;
  let app: INestApplication;
  let tokens: TokenService;
  let userId: number;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(typeOrmOptions(db)),
        DurinModule.forRoot({ userEntity: User }),
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true }),
      ],
      providers: [OrdersResolver],
    })
      .setLogger(silentLogger)
      .compile();
    app = await startHttpApp(moduleRef, adapter);
    tokens = app.get(TokenService);
    userId = (await app.get(DataSource).getRepository(User).save({ email: 'gql@example.com' })).id;
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  async function gql(query: string, abilities?: string[]): Promise<GqlResponse> {
    const set = await tokens.generateHeaderToken({ id: userId }, { abilities });
    const res = await request(app.getHttpServer())
      .post('/graphql')
      .set('Authorization', `Bearer ${set.accessToken}`)
      .send({ query })
      .expect(200);
    return res.body as GqlResponse;
  }

  function expectRefused(body: GqlResponse, field: string, scope: string): void {
    expect(body.data).toBeNull();
    expect(body.errors).toHaveLength(1);
    const [error] = body.errors!;
    expect(error.extensions.code).toBe('FORBIDDEN');
    expect(error.extensions.originalError).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'This token lacks an ability this route requires.',
      code: 'insufficient_scope',
    });
    expect(error.message).toContain(scope);
    expect(JSON.stringify(body)).not.toContain(`"${field}":[`);
  }

  it('answers a query and a mutation the token has the abilities for', async () => {
    expect(await gql('{ orders { id item } }', ['orders:read'])).toEqual({
      data: { orders: [{ id: '1', item: 'tea' }] },
    });
    expect(await gql('mutation { createOrder(item: "cake") { item } }', ['orders:*'])).toEqual({
      data: { createOrder: { item: 'cake' } },
    });
    expect(await gql('{ orders { id } }', ['orders:admin'])).toEqual({
      data: { orders: [{ id: '1' }] },
    });
    expect(await gql('{ myAbilities }', ['orders:read', 'x:y'])).toEqual({
      data: { myAbilities: ['orders:read', 'x:y'] },
    });
  });

  it('refuses a missing ability with FORBIDDEN carrying insufficient_scope', async () => {
    expectRefused(
      await gql('{ orders { id } }', ['users:read']),
      'orders',
      'orders:read orders:admin',
    );
    expectRefused(
      await gql('mutation { createOrder(item: "x") { id } }', ['orders:read']),
      'createOrder',
      'orders:write',
    );
  });

  it('refuses a request without a token as UNAUTHENTICATED', async () => {
    const res = await request(app.getHttpServer())
      .post('/graphql')
      .send({ query: '{ orders { id } }' })
      .expect(200);
    const body = res.body as GqlResponse;
    expect(body.errors?.[0].extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      originalError: { statusCode: 401, code: 'token_missing' },
    });
  });
});
