import { dirname, join } from 'node:path';
import ts from 'typescript';

/**
 * The READMEs' snippets, type-checked as an app with `exactOptionalPropertyTypes` has them (a newcomer's strict
 * tsconfig): an option the code reads as absent when `undefined` must take `undefined`, else a value that may be
 * unset (an environment variable, a header that may be missing) fails with TS2379.
 */
const ROOT = dirname(dirname(new URL(import.meta.url).pathname));
const APP = join(ROOT, 'test', 'exact-optional-app.ts');

/** The TS errors of `source`, an app's file beside the repository's, under its tsconfig with exactOptionalPropertyTypes. */
function typeErrorsOf(source: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), { exactOptionalPropertyTypes: true }, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const host = ts.createCompilerHost(config.options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  const sourceFile = host.getSourceFile.bind(host);
  host.readFile = (file) => (file === APP ? source : read(file));
  host.fileExists = (file) => file === APP || exists(file);
  host.getSourceFile = (file, language, ...rest) => (file === APP ? ts.createSourceFile(file, source, language) : sourceFile(file, language, ...rest));
  const program = ts.createProgram([APP], config.options, host);
  const app = program.getSourceFile(APP)!;
  return [...program.getSyntacticDiagnostics(app), ...program.getSemanticDiagnostics(app)].map((diagnostic) => `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
}

describe('the options of the READMEs, under exactOptionalPropertyTypes', () => {
  it("take a value that may be undefined where undefined means absent: connectRedis's url, SessionService.create's replaces", () => {
    const app = `
import { connectRedis } from '@kura/redis';
import type { SessionService, SessionTransport, TokenSource } from '@kura/session';

export const redis = connectRedis({ url: process.env.REDIS_URL }); // libs/connect/README.md, On Redis
export const login = (sessions: SessionService, transport: SessionTransport, request: TokenSource) =>
  sessions.create({ id: 'ada', email: 'ada@example.com', name: 'ada' }, {}, { replaces: transport.read(request).token }); // libs/session/README.md
`;

    expect(typeErrorsOf(app)).toEqual([]);
  }, 60_000);
});
