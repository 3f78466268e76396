/** express-session ships no types: only what the @kura/connect tests use. */
declare module 'express-session' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface SessionOptions {
    store: object;
    secret: string | string[];
    name?: string;
    resave?: boolean;
    saveUninitialized?: boolean;
    rolling?: boolean;
    cookie?: { maxAge?: number; httpOnly?: boolean; sameSite?: 'lax' | 'strict'; secure?: boolean; path?: string };
  }

  export default function session(options: SessionOptions): (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;
}

/** What the @kura/connect tests use of Express 5 on top of `types/express.d.ts`. */
declare module 'express' {
  /** express-session's `req.session`: data on top, methods underneath. */
  interface ExpressSession {
    [key: string]: unknown;
    cookie: { maxAge: number | null };
    regenerate(callback: (error?: unknown) => void): void;
    save(callback: (error?: unknown) => void): void;
    destroy(callback: (error?: unknown) => void): void;
  }

  interface Request {
    session: ExpressSession;
    /** The request's session id (express-session). */
    readonly sessionID: string;
    readonly params: Record<string, string>;
    readonly query: Record<string, string | undefined>;
  }

  interface Response {
    status(code: number): this;
    set(field: string, value: string): this;
    end(): this;
  }

  type NextFunction = (error?: unknown) => void;

  interface Application {
    use(handler: (request: Request, response: Response, next: NextFunction) => void): this;
    use(handler: (error: unknown, request: Request, response: Response, next: NextFunction) => void): this;
    get(path: string, handler: (request: Request, response: Response, next: NextFunction) => void): this;
    post(path: string, handler: (request: Request, response: Response, next: NextFunction) => void): this;
    delete(path: string, handler: (request: Request, response: Response, next: NextFunction) => void): this;
  }
}
