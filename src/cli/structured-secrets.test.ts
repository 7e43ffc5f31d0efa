import { describe, expect, it } from 'vitest';
import { structuredSecrets } from './structured-secrets.js';

describe('structuredSecrets', () => {
  it('reads the values under secret-looking keys of a JSON text, as read and as written, and leaves the others', () => {
    const text = JSON.stringify({
      api_key: 'sk-json-123456',
      url: 'https://visible.test',
      db: { host: 'db.local', password: 'pw-with-"quote"' },
      credentials: { user: 'deploy-user', pass: 'pass-nested-1' },
      tokens: ['tok-in-a-list-1'],
      port: 5432,
    });
    expect(structuredSecrets(text)).toEqual([
      'sk-json-123456',
      'pw-with-"quote"',
      'pw-with-\\"quote\\"',
      'deploy-user',
      'pass-nested-1',
      'tok-in-a-list-1',
    ]);
  });

  it('reads YAML: a number as written, a block of several lines whole and line by line, every document', () => {
    const text = [
      'service:',
      '  name: visible-name',
      '  API_TOKEN: yaml-token-9876',
      '  db_password: 12345678',
      '  private_key: |',
      '    -----BEGIN-----',
      '    line-one',
      '---',
      'auth_secret: "second\\tdoc"',
      '',
    ].join('\n');
    expect(structuredSecrets(text)).toEqual([
      'yaml-token-9876',
      '12345678',
      '-----BEGIN-----\nline-one\n',
      '-----BEGIN-----',
      'line-one',
      'second\tdoc',
      'second\\tdoc',
    ]);
  });

  it('holds nothing for a text that is not JSON or YAML', () => {
    expect(structuredSecrets('{{{ not: [ a file')).toEqual([]);
  });
});
