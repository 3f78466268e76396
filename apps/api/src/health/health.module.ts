import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { Lifecycle } from './lifecycle.js';
import { Readiness } from './readiness.js';

@Module({ imports: [TerminusModule], controllers: [HealthController], providers: [Lifecycle, Readiness], exports: [Lifecycle] })
export class HealthModule {}
