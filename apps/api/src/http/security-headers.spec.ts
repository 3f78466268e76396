import { answerSecurityHeaders } from './security-headers.js';

describe('answerSecurityHeaders', () => {
  it('asks for HTTPS only where Kura is behind TLS (Secure cookies), and never over plain HTTP', () => {
    expect(answerSecurityHeaders(true)['strict-transport-security']).toBe('max-age=31536000');
    expect(answerSecurityHeaders(false)).not.toHaveProperty('strict-transport-security');
    expect(answerSecurityHeaders(false)).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
  });
});
