/**
 * `@nestjs/swagger` is an optional peer: `require('nestjs-durin')` must work without it, and an app
 * without it must see no difference. So it is loaded here, at run time, only when routes are
 * mounted, and only the few functions used are written down (structurally), which keeps the
 * emitted declarations free of imports from a package the app may not have.
 */

/** A JSON Schema as `@nestjs/swagger` takes it (`SchemaObject` and `ReferenceObject`). */
export type DurinOpenApiSchema = Readonly<Record<string, unknown>>;

type Decorator = ClassDecorator & MethodDecorator & PropertyDecorator;

/** The part of `@nestjs/swagger` the library uses. */
export interface SwaggerPeer {
  ApiTags(...tags: string[]): Decorator;
  ApiOperation(options: { operationId: string; summary: string; description?: string }): Decorator;
  ApiBody(options: {
    type?: abstract new () => unknown;
    required?: boolean;
    description?: string;
  }): Decorator;
  ApiParam(options: { name: string; description?: string; schema?: DurinOpenApiSchema }): Decorator;
  ApiResponse(options: {
    status: number;
    description: string;
    type?: abstract new () => unknown;
    isArray?: boolean;
    schema?: DurinOpenApiSchema;
    headers?: Record<string, { description: string; schema: DurinOpenApiSchema }>;
  }): Decorator;
  ApiSecurity(name: string): Decorator;
  ApiExtraModels(...models: Array<abstract new () => unknown>): Decorator;
  ApiProperty(options: DurinOpenApiSchema): Decorator;
  ApiPropertyOptional(options: DurinOpenApiSchema): Decorator;
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes("'@nestjs/swagger'")
  );
}

let loaded: { swagger: SwaggerPeer | undefined } | undefined;

/**
 * `@nestjs/swagger`, loaded once; `undefined` when it is not installed. Any other load failure (a
 * broken install) is thrown as it is, rather than silently dropping the documentation.
 */
export function loadSwagger(): SwaggerPeer | undefined {
  if (loaded !== undefined) return loaded.swagger;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer, see above
    loaded = { swagger: require('@nestjs/swagger') as SwaggerPeer };
  } catch (error) {
    if (!isMissing(error)) throw error;
    loaded = { swagger: undefined };
  }
  return loaded.swagger;
}
