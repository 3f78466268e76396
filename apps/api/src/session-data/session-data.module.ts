import { Module } from '@nestjs/common';
import { SessionDataController } from './session-data.controller.js';

@Module({ controllers: [SessionDataController] })
export class SessionDataModule {}
