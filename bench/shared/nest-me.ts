// The smallest NestJS module doing what Kura's GET /auth/me does on its hot path: one strongly consistent GetItem
// of the session by the token's hash. The reference for NestJS's own cost, in both benchmarks (cold start as a
// Lambda handler, throughput as a server).
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { Controller, Get, Headers, Module, UnauthorizedException } from '@nestjs/common';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

export function meModule(client: DynamoDBClient, table: string | undefined) {
  @Controller('auth')
  class MeController {
    @Get('me')
    async me(@Headers('authorization') authorization = '') {
      const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
      if (!token) throw new UnauthorizedException();
      const id = createHash('sha256').update(token).digest('base64url');
      const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }));
      if (!Item) throw new UnauthorizedException();
      return { user: { id: Item.userId?.S, email: Item.email?.S } };
    }
  }

  @Module({ controllers: [MeController] })
  class MeModule {}
  return MeModule;
}
