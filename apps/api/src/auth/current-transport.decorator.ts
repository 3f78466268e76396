import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { transportOf, type TransportKind } from '@kura/session';

/** How the current request presented its session (cookie or bearer); needs `SessionGuard` on the route. */
export const CurrentTransport = createParamDecorator(
  (_: unknown, context: ExecutionContext): TransportKind => transportOf(context.switchToHttp().getRequest()),
);
