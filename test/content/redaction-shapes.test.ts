/**
 * What `redact: true` masks, shape by shape, through the `Redactor` the
 * instrumentation builds from that setting (its text and its JSON replacer);
 * the "Redaction" section of docs/security.md lists the same shapes.
 * Each case also shows what must survive, so a pattern cannot pass by
 * masking everything.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/content/redact.js';
import { BUILTIN_PATTERNS, EMAIL_PATTERN } from '../../src/content/secret-patterns.js';

const redactor = Redactor.from(true);
const mask = (text: string) => redactor.text(text);
const maskJson = (value: unknown) => JSON.stringify(value, redactor.replacer);

const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('redact: true masks', () => {
  it('AWS secret access keys after their name, in every usual spelling', () => {
    for (const [text, expected] of [
      [`aws_secret_access_key = ${AWS_SECRET}`, 'aws_secret_access_key = [REDACTED]'],
      [`export AWS_SECRET_ACCESS_KEY="${AWS_SECRET}"`, 'export AWS_SECRET_ACCESS_KEY="[REDACTED]"'],
      [`{"SecretAccessKey": "${AWS_SECRET}"}`, '{"SecretAccessKey": "[REDACTED]"}'],
      [`secretAccessKey: '${AWS_SECRET}'`, "secretAccessKey: '[REDACTED]'"],
      [`aws configure set aws_secret_access_key ${AWS_SECRET}`, 'aws configure set aws_secret_access_key [REDACTED]'],
      [`--aws-secret-access-key ${AWS_SECRET} --region x`, '--aws-secret-access-key [REDACTED] --region x'],
    ] as const) {
      expect(mask(text)).toBe(expected);
    }
    // As the value of an object key so named (the JSON walk sees key and value apart).
    expect(maskJson({ Credentials: { SecretAccessKey: AWS_SECRET, AccessKeyId: 'AKIAIOSFODNN7EXAMPLE' } }))
      .toBe('{"Credentials":{"SecretAccessKey":"[REDACTED]","AccessKeyId":"[REDACTED]"}}');
    // A git commit hash has the same length: left alone.
    expect(mask('commit 3f2a9c1b3f2a9c1b3f2a9c1b3f2a9c1b3f2a9c1b')).toBe('commit 3f2a9c1b3f2a9c1b3f2a9c1b3f2a9c1b3f2a9c1b');
  });

  it('Authorization: Basic credentials, and Basic <base64> that decodes to user:password', () => {
    expect(mask('Authorization: Basic dXNlcjpwYXNzd29yZA==')).toBe('Authorization: Basic [REDACTED]');
    expect(mask('curl -H "authorization: basic Zm9vOmJhcg=="')).toBe('curl -H "authorization: basic [REDACTED]"');
    expect(mask('{"Authorization":"Basic dXNlcjpwYXNz"}')).toBe('{"Authorization":"Basic [REDACTED]"}');
    expect(maskJson({ headers: { authorization: 'Basic dXNlcjpwYXNz' } })).toBe('{"headers":{"authorization":"Basic [REDACTED]"}}');
    expect(mask('req.headers["Authorization"] = "Basic YWRtaW46czNjcjN0"')).toBe('req.headers["Authorization"] = "Basic [REDACTED]"');
    // Words after "Basic" that are not credentials stay.
    expect(mask('Basic Introduction to Math, Basic Auth explained')).toBe('Basic Introduction to Math, Basic Auth explained');
  });

  it('passwords in URLs, keeping the user name and host', () => {
    expect(mask('DATABASE_URL=postgres://admin:hunter2@db.example.com:5432/app')).toBe('DATABASE_URL=postgres://admin:[REDACTED]@db.example.com:5432/app');
    expect(mask('git clone https://oauth2:glpat-abc123@gitlab.com/x/y.git')).toBe('git clone https://oauth2:[REDACTED]@gitlab.com/x/y.git');
    expect(mask('redis://:p%40ss@cache:6379')).toBe('redis://:[REDACTED]@cache:6379');
    // No password, or a port: nothing to mask.
    expect(mask('see http://host:8080/path@v2 and https://git@github.com/x')).toBe('see http://host:8080/path@v2 and https://git@github.com/x');
  });

  it('e-mail addresses', () => {
    expect(mask('write to bob.smith+tag@mail.example.co.uk, or ANN@Example.ORG.')).toBe('write to [REDACTED], or [REDACTED].');
    expect(mask('user@localhost and @handle and a@b')).toBe('user@localhost and @handle and a@b');
    // The user of a URL and an SSH remote are not addresses.
    expect(mask('git clone git@github.com:org/repo.git or ssh://git@gitlab.com/x')).toBe('git clone git@github.com:org/repo.git or ssh://git@gitlab.com/x');
  });

  it('secrets used as object keys', () => {
    const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123';
    expect(maskJson({ owners: { [key]: 'ann', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789': 'bob' } }))
      .toBe('{"owners":{"[REDACTED]":"ann","[REDACTED]#2":"bob"}}');
    // Keys without secrets keep the very object (no copy) and their order.
    expect(maskJson({ b: 1, a: [{ role: 'user' }] })).toBe('{"b":1,"a":[{"role":"user"}]}');
    // A masked "__proto__"-like key stays a plain entry.
    expect(JSON.parse(maskJson(JSON.parse(`{"__proto__": "x", "${key}": 1}`)))).toEqual(JSON.parse('{"__proto__": "x", "[REDACTED]": 1}'));
  });

  it('private keys whole, also JSON-escaped, and the body of a BEGIN without END', () => {
    expect(mask('-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA==\n-----END RSA PRIVATE KEY-----\nafter')).toBe('[REDACTED]\nafter');
    expect(mask('{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADAN\\nBgkqhkiG9w0B\\n-----END PRIVATE KEY-----\\n", "x": 1}'))
      .toBe('{"private_key": "[REDACTED]\\n", "x": 1}');
    expect(mask('-----BEGIN ENCRYPTED PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,ABCDEF\n\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----'))
      .toBe('[REDACTED]');
    expect(mask('cut: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN+/==\n...')).toBe('cut: [REDACTED]...');
  });

  it('the earlier shapes still, with the scheme word kept', () => {
    expect(mask('Bearer abcdefghijklmnopqrstuvwxyz012345')).toBe('Bearer [REDACTED]');
    expect(mask('sk-ant-api03-abcdefghijklmnopqrstuvwxyz xoxb-1234567890-abc AIzaSyA1234567890abcdefghijklmnopqrstuv'))
      .toBe('[REDACTED] [REDACTED] [REDACTED]');
    expect(mask('github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz')).toBe('[REDACTED]');
  });
});

describe('redact: true masks the shapes users meet besides', () => {
  const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFubiJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

  it('JSON Web Tokens, signed or not, and nothing that only starts like one', () => {
    expect(mask(`Authorization: Bearer-less ${JWT} end`)).toBe('Authorization: Bearer-less [REDACTED] end');
    expect(mask(`{"id_token":"${JWT}"}`)).toBe('{"id_token":"[REDACTED]"}');
    expect(mask('unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. done')).toBe('unsigned [REDACTED] done');
    expect(mask('eyJust a word. eyJoke.')).toBe('eyJust a word. eyJoke.');
  });

  it('PGP private key blocks with their headers and checksum', () => {
    const block = '-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\nComment: mine\n\nlQOYBF1xAAABCAC9\nZm9vYmFy+/==\n=Xk2P\n-----END PGP PRIVATE KEY BLOCK-----';
    expect(mask(`key:\n${block}\nthanks`)).toBe('key:\n[REDACTED]\nthanks');
    // The public block is not a secret.
    const pub = '-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQENBF1x\n-----END PGP PUBLIC KEY BLOCK-----';
    expect(mask(pub)).toBe(pub);
  });

  it('Stripe secret and restricted keys, not publishable ones', () => {
    expect(mask('STRIPE=sk_live_51H8abcdEFGHijklMNOPqrst and rk_live_51H8abcdEFGHijklMNOPqrst'))
      .toBe('STRIPE=[REDACTED] and [REDACTED]');
    expect(mask('sk_test_4eC39HqLyjWDarjtT1zdp7dc')).toBe('[REDACTED]');
    expect(mask('pk_live_51H8abcdEFGHijklMNOPqrst sk_live_short')).toBe('pk_live_51H8abcdEFGHijklMNOPqrst sk_live_short');
  });

  it('Slack webhook URLs, keeping the host', () => {
    expect(mask('post to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX now'))
      .toBe('post to https://hooks.slack.com/services/[REDACTED] now');
    expect(mask('https://hooks.slack.com/workflows/T0123/A0456/789/abcDEF')).toBe('https://hooks.slack.com/workflows/[REDACTED]');
    expect(mask('see https://api.slack.com/messaging/webhooks')).toBe('see https://api.slack.com/messaging/webhooks');
  });

  it('Authorization: token …, keeping the scheme word', () => {
    expect(mask('curl -H "Authorization: token ghx_0123456789abcdef0123"')).toBe('curl -H "Authorization: token [REDACTED]"');
    expect(mask('{"authorization":"Token 9f8e7d6c5b4a39281706"}')).toBe('{"authorization":"Token [REDACTED]"}');
    expect(mask('the authorization token is short')).toBe('the authorization token is short');
  });

  it('keys glued to a word by an underscore or a dash', () => {
    expect(mask('OPENAI_KEY_sk-proj-abcdefghijklmnopqrstuvwxyz0123 and x-sk-ant-abcdefghijklmnopqrstuvwxyz'))
      .toBe('OPENAI_KEY_[REDACTED] and x-[REDACTED]');
    expect(mask('token_ghp_abcdefghijklmnopqrstuvwxyz0123456789 id_AKIAIOSFODNN7EXAMPLE slack_xoxb-1234567890-abc'))
      .toBe('token_[REDACTED] id_[REDACTED] slack_[REDACTED]');
    // Inside a word it is no key: "task-…", "risk-…".
    expect(mask('task-abcdefghijklmnopqrstuvwxyz0123 risk-abcdefghijklmnopqrstuvwxyz')).toBe('task-abcdefghijklmnopqrstuvwxyz0123 risk-abcdefghijklmnopqrstuvwxyz');
  });
});

describe('docs/security.md', () => {
  it('lists exactly what each built-in pattern covers', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../docs/security.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Redaction'), readme.indexOf('\n## ', readme.indexOf('## Redaction') + 1));
    const listed = section.split('\n').filter((line) => line.startsWith('- '));
    expect(listed).toEqual([...BUILTIN_PATTERNS, EMAIL_PATTERN].map((p) => `- ${p.covers}`));
  });
});
