// The smallest NestJS module doing what Kura's GET /auth/me does on its hot path: one lookup of the session by the
// token's hash (one strongly consistent GetItem, or one Redis GET). The reference for NestJS's own cost, in both
// benchmarks (cold start as a Lambda handler, throughput as a server).
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { Controller, Get, Headers, Module, UnauthorizedException } from '@nestjs/common';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

/** The session's user by the token's hash, or nothing. */
export type FindSessionUser = (id: string) => Promise<{ id?: string; email?: string } | undefined>;

/** The module doing one consistent GetItem of Kura's session item per request. */
export function meModule(client: DynamoDBClient, table: string | undefined) {
  return meModuleWith(async (id) => {
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }));
    return Item ? { id: Item.userId?.S, email: Item.email?.S } : undefined;
  });
}

/** The module doing one lookup per request, `find`. */
export function meModuleWith(find: FindSessionUser) {
  @Controller('auth')
  class MeController {
    @Get('me')
    async me(@Headers('authorization') authorization = '') {
      const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
      if (!token) throw new UnauthorizedException();
      const id = createHash('sha256').update(token).digest('base64url');
      const user = await find(id);
      if (!user) throw new UnauthorizedException();
      return { user };
    }
  }

  @Module({ controllers: [MeController] })
  class MeModule {}
  return MeModule;
}
