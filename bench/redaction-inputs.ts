/**
 * Texts for measuring redaction: ordinary conversation text, and for every
 * built-in pattern the near misses that make a backtracking pattern slow (a
 * prefix that starts a match and a tail that fails it late), repeated to any
 * size. Shared by the linear-time test and `npm run bench`.
 */

/**
 * Near misses per built-in pattern name (see src/content/secret-patterns.ts).
 * Each holds one of its pattern's hints, so the pattern really runs on it.
 */
export const ADVERSARIAL_CELLS: Readonly<Record<string, readonly string[]>> = {
  // The reported stall: many BEGIN lines and no END.
  'private-key': [
    '-----BEGIN PRIVATE KEY-----\n',
    `-----BEGIN ${'A '.repeat(30)}PRIVATE KEY`,
    '-----BEGIN PRIVATE KEY-----\nProc-Type: 4\n' + ' \n'.repeat(50) + '-----END X',
  ],
  'authorization-basic': ['Authorization: Basic ', `authorization ${' '.repeat(3)}: `, 'Authorization: Basic dXNlcjpwYXNz'],
  'basic-credentials': ['Basic ' + 'QUFB'.repeat(40) + '===', 'basic    ', 'Basic Introduction '],
  'bearer-token': ['Bearer ' + 'a'.repeat(19) + ' ', 'bearer' + ' '.repeat(60) + '!'],
  'url-password': ['http://user:' + 'p'.repeat(255) + '/', 'a://', 'x+y.z-' + 'q'.repeat(40) + '://u:'],
  'aws-secret-access-key': ['aws_secret_access_key="' + 'A'.repeat(39) + '" ', 'secret_access_key ' + 'B'.repeat(41), 'SECRET'],
  'openai-anthropic-openrouter-key': ['sk-' + 'a'.repeat(19) + ' ', 'sk-ant-', 'sk-'],
  'github-token': ['ghp_' + 'a'.repeat(29) + ' ', 'ghp_' + 'b'.repeat(40) + '_', 'github_pat_' + 'c'.repeat(29) + '!'],
  'slack-token': ['xoxb-' + 'a'.repeat(9) + ' ', 'xox'],
  'google-api-key': ['AIza' + 'a'.repeat(34) + ' ', 'AIza' + 'b'.repeat(36)],
  'aws-access-key-id': ['AKIA' + 'A'.repeat(15) + ' ', 'ASIA' + 'B'.repeat(17)],
  'authorization-token': ['Authorization: token ' + 'a'.repeat(7) + ' ', `authorization ${' '.repeat(3)}: token`],
  'stripe-key': ['sk_live_' + 'a'.repeat(15) + ' ', 'rk_test_' + 'b'.repeat(15) + '_'],
  'jwt': ['eyJ' + 'a'.repeat(40) + '.eyJ' + 'b'.repeat(40) + ' ', 'eyJaaaa.' + 'eyJ', '-eyJ' + 'c'.repeat(30)],
  'slack-webhook': ['hooks.slack.com/services/' + 'T'.repeat(3) + ' ', 'https://hooks.slack.com/'],
  'phone-number': ['555-123-456 ', '+1 (555) 123-456', '1'.repeat(40) + '-'],
  'email-address': ['a@', 'x.y-z@' + 'ab.'.repeat(9) + '1 ', 'a.'.repeat(40) + '@ ', 'u@' + 'd-'.repeat(40) + '.c0 '],
};

/** `cells` repeated (round robin) until the text is `bytes` long. */
export function adversarialText(cells: readonly string[], bytes: number): string {
  const round = cells.join('');
  // One flat string (repeat, not a rope of appends), so timing never includes flattening it.
  return round.repeat(Math.ceil(bytes / round.length)).slice(0, bytes);
}

const PROSE = [
  'Could you check the weather in Lisbon for tomorrow and suggest what to wear?',
  'Sure. The forecast says 21°C with light wind; a light jacket should do.',
  'Here is the stack trace from the build: TypeError: cannot read properties of undefined (reading "map") at render (app.tsx:42:17)',
  'The function returns a Promise<string[]>; await it before calling .join(", ") on the result.',
  'Run `npm ci && npm test` in the repository root, then open http://localhost:5173/ in a browser.',
  'Meeting notes: ship the parser on Friday, review the API on Monday, write the migration guide.',
];

/** Ordinary agent conversation text, with an occasional secret, `bytes` long. */
export function normalText(bytes: number): string {
  let out = '';
  for (let i = 0; out.length < bytes; i++) {
    out += `${PROSE[i % PROSE.length]}\n`;
    if (i % 50 === 49) out += 'My key is sk-proj-abcdefghijklmnopqrstuvwxyz0123 and mail me at ann@example.org.\n';
  }
  return out.slice(0, bytes);
}
