import { WeakPasswordError } from './account.errors.js';
import { PasswordPolicy } from './password-policy.js';

const alice = { email: 'Alice.Liddell+news@Wonderland.example', name: 'Alice Pleasance Liddell' };

describe('PasswordPolicy', () => {
  const policy = new PasswordPolicy({ serviceWords: ['Kura', 'storehouse'] });

  it.each([
    ['password', 'the most common of eight letters'],
    ['12345678', 'digits in a row'],
    ['qwertyuiop', 'a keyboard row'],
    ['iloveyou', 'a phrase'],
    ['PASSWORD', 'in capitals'],
    ['Password2024!', 'with digits and a symbol after it'],
    ['!!Sunshine99', 'with symbols before and digits after'],
    ['ｐａｓｓｗｏｒｄ１', 'in fullwidth letters (NFKC)'],
    ['zzzzzzzzzz', 'one letter repeated'],
    ['\u00b7'.repeat(12), 'one symbol repeated'],
  ])('refuses %s (%s) as common', async (password) => {
    await expect(policy.weakness(password, alice)).resolves.toBe('common');
  });

  it.each([
    ['alice.liddell+news@wonderland.example', 'the email'],
    ['ALICE.LIDDELL+NEWS@WONDERLAND.EXAMPLE', 'the email in capitals'],
    ['alice.liddell+news', 'the part before @'],
    ['aliceliddellnews', 'that part without its separators'],
    ['liddell1865', 'a word of that part, with digits'],
    ['Alice Pleasance Liddell', 'the name'],
    ['pleasance!!!', 'a word of the name'],
    ['kura2026', "the service's word, with digits"],
    ['#Storehouse#', "the service's other word, with symbols"],
  ])('refuses %s (%s) as made of context words', async (password) => {
    await expect(policy.weakness(password, alice)).resolves.toBe('context');
  });

  it.each([
    'correct horse battery staple',
    'tr0ub4dor and three',
    'a brand new secret',
    '🔑🔒🗝️ and a door',
    'Liddell wrote no password here', // the account's words inside a longer passphrase are not the password
    'sunshine over the storehouse',
  ])('accepts %s', async (password) => {
    await expect(policy.weakness(password, alice)).resolves.toBeUndefined();
  });

  it('refuses every one of the 49,233 common passwords, and none of the same with a letter between two of its characters', async () => {
    const { dictionary } = await import('@zxcvbn-ts/language-common');
    const list = dictionary['passwords-common'];
    expect(list).toHaveLength(49_233);
    const verdicts = await Promise.all(list.map((entry) => policy.weakness(entry, { email: 'qx9z7v@example.com' })));
    expect(list.filter((_entry, index) => verdicts[index] !== 'common')).toEqual([]);
    // The search finds only what is there: each of the longer ones with a letter put inside it (and so no longer a
    // common password, nor made of one) is accepted, bar the few that are then in the list too.
    const changed = list.filter((entry) => entry.length >= 10).map((entry) => `${entry.slice(0, 5)}q${entry.slice(5)}`);
    const accepted = (await Promise.all(changed.map((entry) => policy.weakness(entry, { email: 'qx9z7v@example.com' })))).filter((verdict) => verdict === undefined);
    expect(accepted.length / changed.length).toBeGreaterThan(0.97);
  });

  it('refuses what its own blocklist holds, compared as the common ones are', async () => {
    const own = new PasswordPolicy({ commonPasswords: false, blocklist: ['Wonderland Rabbit'] });
    await expect(own.weakness('wonderland rabbit!!', alice)).resolves.toBe('common');
    // Without the common list, a common password passes: the option turns it off.
    await expect(own.weakness('password', alice)).resolves.toBeUndefined();
  });

  it('throws WeakPasswordError naming the field and the reason', async () => {
    await expect(policy.check('Password1', alice, 'newPassword')).rejects.toEqual(expect.objectContaining({ name: 'WeakPasswordError', reason: 'common', field: 'newPassword' }));
    await expect(policy.check('alice1865', alice, 'password')).rejects.toBeInstanceOf(WeakPasswordError);
    await expect(policy.check('a very private phrase', alice, 'password')).resolves.toBeUndefined();
  });

  it('loads the rules and the list once, however many checks wait for them', async () => {
    const fresh = new PasswordPolicy();
    const loading = () => (fresh as unknown as { rules?: Promise<unknown> }).rules;
    expect(loading()).toBeUndefined(); // nothing at construction: a cold start loads nothing

    const first = fresh.weakness('letmein1', alice);
    const pending = loading();
    const verdicts = await Promise.all([first, ...Array.from({ length: 19 }, () => fresh.weakness('letmein1', alice))]);

    expect(pending).toBeInstanceOf(Promise);
    expect(loading()).toBe(pending);
    expect(new Set(verdicts)).toEqual(new Set(['common']));
  });
});
