import { applyMergePatch, isObject, MergePatchKeyError } from './merge-patch.js';

describe('applyMergePatch', () => {
  // RFC 7396, Appendix A: every example, in order.
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('merges %j with %j into %j', (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  it('leaves its inputs untouched', () => {
    const target = { a: { b: 1 } };
    applyMergePatch(target, { a: { b: 2 } });
    expect(target).toEqual({ a: { b: 1 } });
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %p at any depth', (key) => {
    const patch = JSON.parse(`{"outer": {"${key}": {"polluted": true}}}`);

    expect(() => applyMergePatch({}, patch)).toThrow(MergePatchKeyError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %p at the top level, even to delete it', (key) => {
    for (const value of ['{"isAdmin": true}', 'null', '"x"']) {
      const patch = JSON.parse(`{"${key}": ${value}}`);

      expect(() => applyMergePatch({ a: 1 }, patch)).toThrow(MergePatchKeyError);
    }
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('names the refused key, so the client can be told what was wrong', () => {
    const attempt = () => applyMergePatch({}, JSON.parse('{"a": {"__proto__": {}}}'));

    expect(attempt).toThrow(new MergePatchKeyError('__proto__'));
    try {
      attempt();
    } catch (error) {
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ name: 'MergePatchKeyError', key: '__proto__' });
      expect((error as Error).message).toBe('A merge patch may not use the key "__proto__"');
    }
  });

  it('still merges keys that merely contain a forbidden word', () => {
    expect(applyMergePatch({}, { __proto__x: 1, myconstructor: 2, prototypes: 3 })).toEqual({
      __proto__x: 1,
      myconstructor: 2,
      prototypes: 3,
    });
  });

  it('builds the result from plain objects, whatever the target inherits', () => {
    const target = Object.create({ inherited: 'from the prototype' }) as Record<string, unknown>;
    target.own = 1;

    const result = applyMergePatch(target, { added: 2 }) as Record<string, unknown>;

    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(result).toEqual({ own: 1, added: 2 });
    expect(result.inherited).toBeUndefined();
  });

  it('copies objects it merges into, so the result shares no object with the target', () => {
    const target = { a: { b: 1 }, c: { d: 2 } };

    const result = applyMergePatch(target, { a: { e: 3 } }) as typeof target & { a: { e: number } };

    expect(result.a).not.toBe(target.a);
    expect(result.a).toEqual({ b: 1, e: 3 });
    expect(target.a).toEqual({ b: 1 });
  });

  it('treats an array in the target as a value to replace, never as an object to merge into', () => {
    expect(applyMergePatch({ a: [1, 2] }, { a: { 0: 'x' } })).toEqual({ a: { 0: 'x' } });
  });

  it('treats null in the target as a value to replace', () => {
    expect(applyMergePatch({ a: null }, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
  });
});

describe('isObject', () => {
  it.each([
    [{}, true],
    [{ a: 1 }, true],
    [[], false],
    [null, false],
    [undefined, false],
    ['{}', false],
    [1, false],
    [true, false],
  ])('says whether %j is a JSON object (and so a valid patch document)', (value, expected) => {
    expect(isObject(value)).toBe(expected);
  });
});
