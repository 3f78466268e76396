// Types for the TypeScript reference app (nest-getitem.ts) that imports the shared anchor module.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export const settings: { host: string; port: number; usersTable: string; sessionsTable: string; kuraStoreTable: string; secret: string };
export const client: DynamoDBClient;
export function verifyLogin(email: unknown, password: unknown): Promise<{ id: string; email: string } | undefined>;
export function announce(address: string): void;
export const redisUrl: string | undefined;
export function redisClient(): Promise<import('redis').RedisClientType>;
export function referenceKey(id: string): string;
export function referenceSession(
  user: { id: string; email?: string },
  now?: number,
): { user: { id: string; email?: string; name: null }; createdAt: number; idleExpiresAt: number; absoluteExpiresAt: number };
export function seedReference(
  redis: { set(key: string, value: string): Promise<unknown> },
  token: string,
  user: { id: string; email?: string },
  answering: boolean,
): Promise<void>;
