/** Express 5 ships no types: only what the tests use (the CSRF check on an Express request). */
declare module 'express' {
  import type { IncomingMessage, Server, ServerResponse } from 'node:http';

  interface Request extends IncomingMessage {
    /** `http` or `https`, X-Forwarded-Proto included when `trust proxy` trusts the peer. */
    readonly protocol: string;
    /** Host and port, X-Forwarded-Host included when `trust proxy` trusts the peer. */
    readonly host: string | undefined;
    readonly method: string;
  }

  interface Response extends ServerResponse {
    json(body: unknown): this;
  }

  interface Application {
    set(setting: string, value: unknown): this;
    post(path: string, handler: (request: Request, response: Response) => void): this;
    listen(port: number, host: string, callback: () => void): Server;
  }

  export default function express(): Application;
}
