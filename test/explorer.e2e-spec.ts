import { mkdir } from 'node:fs/promises';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, chromiumAvailable } from './support/chromium.js';
import { freshTables, kuraEnv } from './support/engine.js';
import { uniqueEmail } from './support/http-client.js';
import { startKuraInProcess } from './support/kura-app.js';

/**
 * A person's first five minutes, in a real browser: open the OpenAPI explorer, register, log in, and call
 * `/auth/me` from the page itself. The session cookie is set and sent by Chromium, not by the test.
 */
const describeInBrowser = chromiumAvailable() ? describe : describe.skip;

describeInBrowser('the OpenAPI explorer in Chromium', () => {
  let app: NestFastifyApplication;
  let baseUrl: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ({ app, baseUrl } = await startKuraInProcess(kuraEnv(await freshTables())));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    // What the page's Content-Security-Policy refused, and any script error: the explorer must run under it whole.
    page.on('console', (message) => {
      if (message.type() === 'error') refused.push(message.text());
    });
    page.on('pageerror', (error) => refused.push(String(error)));
  }, 60_000);
  const refused: string[] = [];
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** Opens an operation, fills its body if given, executes it, and returns the status the explorer shows. */
  async function execute(operationId: string, body?: unknown): Promise<{ status: string; response: string }> {
    const operation = page.locator(`#operations-auth-${operationId}`);
    if (!(await operation.locator('.opblock-body').isVisible())) await operation.locator('.opblock-summary').click();
    const tryItOut = operation.locator('button.try-out__btn');
    if ((await tryItOut.textContent())?.includes('Try it out')) await tryItOut.click();
    if (body !== undefined) await operation.locator('textarea.body-param__text').fill(JSON.stringify(body));
    await operation.locator('button.execute').click();
    const live = operation.locator('.live-responses-table .response').first();
    await live.waitFor();
    return {
      status: (await live.locator('.response-col_status').textContent())?.trim() ?? '',
      response: (await live.locator('.response-col_description').textContent()) ?? '',
    };
  }

  it('registers, logs in and gets 200 from /auth/me, all through the page', async () => {
    const email = uniqueEmail('browser');
    await page.goto(`${baseUrl}/docs`);
    await page.locator('#operations-auth-AuthController_register').waitFor();

    const registered = await execute('AuthController_register', { email, password: 'correct horse battery', name: 'Ada' });
    expect(registered.status).toBe('201');

    const login = await execute('AuthController_login', { email, password: 'correct horse battery' });
    expect(login.status).toBe('200');
    const cookies = await page.context().cookies(baseUrl);
    expect(cookies).toEqual([expect.objectContaining({ name: '__Host-kura_session', httpOnly: true, secure: true, sameSite: 'Lax' })]);

    const me = await execute('AuthController_me');
    expect(me.status).toBe('200');
    expect(me.response).toContain(email);

    expect(refused).toEqual([]);
    await mkdir('reports', { recursive: true });
    await page.screenshot({ path: 'reports/explorer.png', fullPage: true }); // for a person to look at (git-ignored)
  });
});
