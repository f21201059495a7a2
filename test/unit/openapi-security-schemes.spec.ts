import { DocumentBuilder } from '@nestjs/swagger';
import { addDurinSecuritySchemes, DURIN_BEARER_SCHEME, DURIN_COOKIE_SCHEME } from '../../lib';
import { resolveDurinOptions } from '../../lib/options/resolve-options';

class User {}

describe('addDurinSecuritySchemes', () => {
  it('adds the bearer and the cookie scheme to a DocumentBuilder, and returns the builder', () => {
    const builder = new DocumentBuilder();
    expect(addDurinSecuritySchemes(builder, { cookieName: 'sid' })).toBe(builder);
    expect(builder.build().components?.securitySchemes).toEqual({
      [DURIN_BEARER_SCHEME]: {
        type: 'http',
        scheme: 'bearer',
        description: expect.stringContaining('not a JWT'),
      },
      [DURIN_COOKIE_SCHEME]: {
        type: 'apiKey',
        in: 'cookie',
        name: 'sid',
        description: expect.stringContaining('CSRF'),
      },
    });
  });

  it('names the cookie as the default options set it', () => {
    const schemes = addDurinSecuritySchemes(new DocumentBuilder()).build().components
      ?.securitySchemes as Record<string, { name?: string }>;
    expect(schemes[DURIN_COOKIE_SCHEME].name).toBe(
      resolveDurinOptions({ userEntity: User }).cookie.name,
    );
  });
});
