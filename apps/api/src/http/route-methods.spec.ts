import { RouteMethods } from './route-methods.js';

describe('RouteMethods', () => {
  const routes = new RouteMethods();
  routes.add('GET', '/auth/me');
  routes.add('HEAD', '/auth/me');
  routes.add('PATCH', '/session/data');
  routes.add(['GET'], '/session/data');
  routes.add('DELETE', '/auth/sessions/:id');
  routes.add('OPTIONS', '*');
  routes.add('GET', '/docs/*');
  routes.add('GET', '/a.b/:x');

  it('names the methods of a path, HEAD with every GET, in a stable order', () => {
    expect(routes.of('/auth/me')).toEqual(['GET', 'HEAD']);
    expect(routes.of('/session/data')).toEqual(['GET', 'HEAD', 'PATCH']);
  });

  it('matches a parameter as one segment, and the rest of the pattern literally', () => {
    expect(routes.of('/auth/sessions/abc')).toEqual(['DELETE']);
    expect(routes.of('/auth/sessions/a/b')).toBeUndefined();
    expect(routes.of('/auth/sessions/')).toBeUndefined();
    expect(routes.of('/a.b/1')).toEqual(['GET', 'HEAD']);
    expect(routes.of('/aXb/1')).toBeUndefined();
  });

  it('gives a catch-all no path: a path only it would take is no route', () => {
    expect(routes.of('/docs/anything')).toBeUndefined();
    expect(routes.of('/nothing')).toBeUndefined();
  });
});
