import { CookieJar } from 'tough-cookie';

/** What a test needs from a response: status, headers, parsed body. */
export interface TestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * A user agent over real HTTP: `fetch` plus a cookie jar that follows RFC 6265 (Secure cookies are kept for
 * loopback, as browsers do), so cookie attributes are exercised the way a browser would.
 */
export class HttpClient {
  readonly jar = new CookieJar();

  constructor(public baseUrl: string) {}

  async request<T = any>(
    method: string,
    path: string,
    options: { json?: unknown; body?: string; headers?: Record<string, string>; cookies?: boolean } = {},
  ): Promise<TestResponse<T>> {
    const url = new URL(path, this.baseUrl).toString();
    const headers: Record<string, string> = { ...options.headers };
    if (options.cookies !== false) {
      const cookie = await this.jar.getCookieString(url);
      if (cookie) headers.cookie = cookie;
    }
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    for (const setCookie of response.headers.getSetCookie()) await this.jar.setCookie(setCookie, url);
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, headers: response.headers, text, body: type.includes('json') && text ? JSON.parse(text) : text };
  }

  get<T = any>(path: string, options?: Parameters<HttpClient['request']>[2]) {
    return this.request<T>('GET', path, options);
  }

  post<T = any>(path: string, json?: unknown, options?: Parameters<HttpClient['request']>[2]) {
    return this.request<T>('POST', path, { ...options, ...(json !== undefined ? { json } : {}) });
  }

  /** Registers and logs in with a cookie; returns the login body. */
  async signUpAndLogIn(email: string, password = 'correct horse battery') {
    const registered = await this.post('/auth/register', { email, password });
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${registered.text}`);
    const login = await this.post('/auth/login', { email, password });
    if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`);
    return login.body;
  }
}

export const uniqueEmail = (label = 'user') => `${label}-${Math.random().toString(36).slice(2, 10)}@example.com`;
