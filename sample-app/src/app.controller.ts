import { Controller, Get } from '@nestjs/common';
import { Public } from '../../lib';

/** A public hello, so `curl localhost:3000/` shows the app is up and what to try next. */
@Controller()
export class AppController {
  @Public()
  @Get()
  hello() {
    return {
      name: 'nestjs-durin sample',
      login: 'POST /auth/login {"username":"demo","password":"demo-password","client":"web"}',
      protected: ['GET /me', 'GET /me/device', 'GET /auth/sessions'],
      docs: 'README.md, section "Try the sample app"',
    };
  }
}
