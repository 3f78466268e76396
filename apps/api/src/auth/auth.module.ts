import { Module } from '@nestjs/common';
import { AuthController } from './auth.controller.js';
import { SessionsController } from './sessions.controller.js';

/** Register, login, me and logout over HTTP. Sessions and accounts come from their (global) modules. */
@Module({ controllers: [AuthController, SessionsController] })
export class AuthModule {}
