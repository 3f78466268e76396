import { describe, expect, it } from '@jest/globals';
import { loginRedirectNote, toLoginPage, TRUST_PROXY } from './run.js';

// A newcomer's review (2026-12-07): every login that redirected and set no cookie was told kura-check does not
// follow a login's redirect, though the causes seen were a Secure cookie over the http balancer (the README's own
// snippets set one) and a refused login sent back to the login page (passport's failureRedirect).
describe("why a login that redirected set no cookie, said with what to do for each likely cause", () => {
  const scenario = { loginPath: '/login', checkPath: '/me', forwardsHttps: false };

  it('puts first, for a redirect to the check\'s own page (a login that worked), a Secure cookie over this http balancer', () => {
    const line = loginRedirectNote({ status: 302, location: '/me' }, scenario);
    expect(line).toBe(
      "; the login answered 302 to /me and set no cookie, for one of two reasons: a Secure session cookie (secure: true, a __Host- name) the app sets only over https, which this balancer is not: send headers: { X-Forwarded-Proto: https } at the scenario's top level, and have the app trust its proxy; or a login that sets the cookie where its redirect leads (a callback, single sign-on): kura-check does not follow a login's redirect; give as login the request that sets the session cookie",
    );
  });

  it('puts first, for a redirect elsewhere (a callback), the cookie set where the redirect leads', () => {
    const line = loginRedirectNote({ status: 303, location: 'http://127.0.0.10:8080/auth/callback?ticket=secret' }, scenario);
    expect(line).toMatch(/^; the login answered 303 to http:\/\/127\.0\.0\.10:8080\/auth\/callback\?… and set no cookie, for one of two reasons: a login that sets the cookie where its redirect leads .*; or a Secure session cookie/);
  });

  it('says to trust the proxy, by its address from the environment, where the login already said X-Forwarded-Proto: https', () => {
    const line = loginRedirectNote({ status: 302, location: '/me' }, { ...scenario, forwardsHttps: true });
    expect(line).toContain(`a Secure cookie the app did not set, though the login said X-Forwarded-Proto: https: ${TRUST_PROXY}; or`);
    expect(line).not.toContain('send headers');
  });

  it.each(['/login', '/login?error=1', 'https://shop.example/login', '/users/sign_in', '/signin', '/account/log-in', '/login.php'])(
    'calls a redirect to %s a refused login, sent back to the login page',
    (location) => {
      const line = loginRedirectNote({ status: 302, location }, scenario);
      expect(line).toMatch(/, back to what looks like the login page: a refused login, as passport's failureRedirect answers one \(field names the app does not read, a user it does not know\): check the login's json or form against what the app reads, and that setup registers the user$/);
      expect(line).not.toContain('Secure');
    },
  );

  it('takes the login\'s own path as the login page, whatever its name, and nothing else named like a login', () => {
    expect(toLoginPage('/session?next=/', '/session')).toBe(true);
    for (const location of ['/me', '/', '/auth/callback', '/login-help/faq', '/blog/how-to-login-faster']) expect(toLoginPage(location, '/session')).toBe(false);
  });

  it("advises trusting the balancers' address for the run, from the environment, not every client (Fastify's trustProxy: true)", () => {
    expect(TRUST_PROXY).toMatch(/reach the replicas from loopback \(127\.0\.0\.1, whatever --host-base\), so env: \{ TRUSTED_PROXIES: loopback \} in the scenario, and in production only the ingress's addresses/);
    expect(TRUST_PROXY).toContain("Express: app.set('trust proxy', process.env.TRUSTED_PROXIES); Fastify: trustProxy: process.env.TRUSTED_PROXIES");
    expect(TRUST_PROXY).not.toContain('trustProxy: true');
  });
});

describe('a redirect that starts a single sign-on', () => {
  it.each(['https://tenant.auth0.com/u/login?state=hKFo2SBx', 'https://login.example.com/login?client_id=shop&redirect_uri=https%3A%2F%2Fshop%2Fcb', 'https://idp.example/sso/login?SAMLRequest=fZJNT'])(
    'is not taken for a refused login, though its page is at a login path: %s',
    (location) => {
      expect(toLoginPage(location, '/login')).toBe(false);
      expect(loginRedirectNote({ status: 302, location }, { loginPath: '/login', checkPath: '/me', forwardsHttps: false })).toMatch(/for one of two reasons: a login that sets the cookie where its redirect leads \(a callback, single sign-on\)/);
    },
  );
});
