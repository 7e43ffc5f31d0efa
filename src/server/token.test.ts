import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadToken, tokenPath } from './token.js';

const state = () => mkdtempSync(join(tmpdir(), 'weft-state-'));

describe('the server token', () => {
  it('is made at random on first use under $XDG_STATE_HOME/weft/token, mode 0600 in a 0700 folder, then kept', () => {
    const env = { XDG_STATE_HOME: state() };
    const first = loadToken(env);
    const file = join(env.XDG_STATE_HOME, 'weft', 'token');
    expect(first.source).toBe(file);
    expect(first.token).toMatch(/^[\w-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(env.XDG_STATE_HOME, 'weft')).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.token);
    expect(loadToken(env).token).toBe(first.token);
    expect(loadToken({ XDG_STATE_HOME: state() }).token).not.toBe(first.token);
  });

  it('falls back to ~/.local/state when XDG_STATE_HOME is unset or empty', () => {
    expect(tokenPath({ XDG_STATE_HOME: '' })).toMatch(/\.local\/state\/weft\/token$/);
    expect(tokenPath({})).toMatch(/\.local\/state\/weft\/token$/);
  });

  it('WEFT_TOKEN overrides the file; a token that is not one is refused with the fix', () => {
    const env = { XDG_STATE_HOME: state(), WEFT_TOKEN: 'my-own-token-1234567890' };
    expect(loadToken(env)).toEqual({ token: 'my-own-token-1234567890', source: 'WEFT_TOKEN' });
    expect(() => loadToken({ ...env, WEFT_TOKEN: 'short' })).toThrow(/WEFT_TOKEN must be 16 to 512/);
    expect(() => loadToken({ ...env, WEFT_TOKEN: 'has spaces in it, 1234567' })).toThrow(/WEFT_TOKEN/);
  });

  it('a token file others can read is tightened to 0600; a file with no token is refused', () => {
    const env = { XDG_STATE_HOME: state() };
    const file = tokenPath(env);
    loadToken(env);
    chmodSync(file, 0o644);
    loadToken(env);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, 'no\n');
    expect(() => loadToken(env)).toThrow(/does not hold a token/);
  });
});
