import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { Lifecycle } from './lifecycle.js';
import { Readiness } from './readiness.js';

@Module({ controllers: [HealthController], providers: [Lifecycle, Readiness], exports: [Lifecycle] })
export class HealthModule {}
