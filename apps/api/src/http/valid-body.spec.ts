import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import * as z from 'zod/mini';
import { LoginBody, PasswordChangeBody, ReauthenticateBody, RegisterBody } from '../auth/auth.schemas.js';
import { RequestValidationError } from './request-validation.error.js';
import { VALIDATION_PIPE } from './valid-body.js';

/** Every `*.controller.ts` of the app, found on disk, so that a new controller is checked without being listed here. */
function controllerFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? controllerFiles(join(dir, entry.name)) : entry.name.endsWith('.controller.ts') ? [join(dir, entry.name)] : [],
  );
}

interface RouteArgument {
  readonly index: number;
  readonly schema?: unknown;
  readonly pipes: readonly unknown[];
}

/** Every body and query parameter of every route: `Controller.method #index`, with its schema and pipes. */
async function checkedParameters() {
  const found: { where: string; argument: RouteArgument }[] = [];
  for (const file of controllerFiles(join(import.meta.dirname, '..'))) {
    for (const exported of Object.values(await import(file))) {
      if (typeof exported !== 'function') continue;
      for (const method of Object.getOwnPropertyNames(exported.prototype)) {
        const argumentsOf = (Reflect.getMetadata(ROUTE_ARGS_METADATA, exported, method) ?? {}) as Record<string, RouteArgument>;
        for (const [key, argument] of Object.entries(argumentsOf)) {
          const type = Number(key.split(':')[0]);
          if (type === RouteParamtypes.BODY || type === RouteParamtypes.QUERY) found.push({ where: `${exported.name}.${method} #${argument.index}`, argument });
        }
      }
    }
  }
  return found;
}

describe('request bodies are validated where they are declared (no global pipe)', () => {
  it('every body or query parameter of every controller has a schema and the validation pipe', async () => {
    const parameters = await checkedParameters();

    // The five bodies the API reads today: register, login, re-authenticate, change password, patch the data.
    expect(parameters.length).toBeGreaterThanOrEqual(5);
    const unchecked = parameters.filter(({ argument }) => argument.schema === undefined || !argument.pipes.includes(VALIDATION_PIPE)).map(({ where }) => where);
    expect(unchecked).toEqual([]);
  });
});

describe('the validation pipe', () => {
  const body = (schema: unknown) => ({ type: 'body' as const, schema: schema as never });

  // Nest 12.6's pipe deletes these keys before the schema looks, which turned a refusal into a silent success.
  it.each([
    ['RegisterRequest', RegisterBody, { email: 'ada@example.com', password: 'correct horse battery' }],
    ['LoginRequest', LoginBody, { email: 'ada@example.com', password: 'correct horse battery' }],
    ['ReauthenticateRequest', ReauthenticateBody, { password: 'correct horse battery' }],
    ['PasswordChangeRequest', PasswordChangeBody, { currentPassword: 'correct horse battery', newPassword: 'battery staple horse' }],
  ])('refuses a %s carrying a constructor or prototype key, as any unknown key', async (_name, schema, valid) => {
    await expect(VALIDATION_PIPE.transform(JSON.parse(JSON.stringify(valid)), body(schema))).resolves.toEqual(expect.objectContaining(valid));
    for (const key of ['constructor', 'prototype']) {
      await expect(VALIDATION_PIPE.transform({ ...valid, [key]: 'x' }, body(schema))).rejects.toBeInstanceOf(RequestValidationError);
    }
  });

  it('hands the schema every key as sent, at any depth (the session data refuses them itself)', async () => {
    const sent = JSON.parse('{"constructor": 1, "cart": {"prototype": "x", "items": [{"constructor": 2}]}}');

    const passed = await VALIDATION_PIPE.transform(sent, body(z.record(z.string(), z.unknown())));

    expect(JSON.stringify(passed)).toBe('{"constructor":1,"cart":{"prototype":"x","items":[{"constructor":2}]}}');
  });
});
