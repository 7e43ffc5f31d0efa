import { describe, expect, it } from 'vitest';
import { dotenvSecrets } from './secrets.js';

describe('dotenvSecrets', () => {
  it('reads the values of secret-looking names as dotenv does, and leaves the others', () => {
    const text = [
      '# DB_PASSWORD=commented-out',
      'DB_PASSWORD=plain-value # staging',
      'export API_TOKEN="double-quoted # not a comment"',
      "AUTH_HEADER='single quoted'",
      'GITHUB_KEY = spaced-value  ',
      'PORT=5432',
      'DATABASE_URL=postgres://u@h/db',
      '  STRIPE_SECRET=indented-value',
      'not a line of dotenv',
    ].join('\n');
    expect(dotenvSecrets(text)).toEqual([
      'plain-value',
      'double-quoted # not a comment',
      'single quoted',
      'spaced-value',
      'indented-value',
    ]);
  });

  it('takes a quoted value over several lines whole and line by line; \\n in double quotes is a line break', () => {
    expect(dotenvSecrets("PRIVATE_KEY='-----BEGIN-----\r\nline-one\n-----END-----'\nNEXT=x")).toEqual([
      '-----BEGIN-----\nline-one\n-----END-----',
      '-----BEGIN-----',
      'line-one',
      '-----END-----',
    ]);
    expect(dotenvSecrets('SSH_KEY="first-line\\nsecond-line"')).toEqual([
      'first-line\\nsecond-line',
      'first-line\nsecond-line',
      'first-line',
      'second-line',
    ]);
  });
});
