import { describe, expect, it } from 'vitest';
import { maskRemote, remoteAccess, remoteSecrets, shownRemote, withoutPassword } from './remote-url.js';

describe('a git remote URL', () => {
  it('shows its password masked', () => {
    expect(shownRemote('https://ci:s3cret-token@git.example.com/app.git')).toBe(
      'https://ci:***@git.example.com/app.git',
    );
    expect(shownRemote('file://u:pa%40ss@localhost/srv/app.git')).toBe('file://u:***@localhost/srv/app.git');
  });

  it('leaves a URL without password, a path and an scp-like address alone', () => {
    for (const url of [
      'https://git.example.com/app.git',
      'https://ci@host/app.git',
      '/srv/git/app.git',
      'git@host:app.git',
    ])
      expect(shownRemote(url)).toBe(url);
    expect(remoteSecrets('/srv/git/app.git')).toEqual([]);
  });

  it('goes to workers without its password', () => {
    expect(withoutPassword('https://ci:s3cret-token@git.example.com/app.git')).toBe(
      'https://ci@git.example.com/app.git',
    );
    expect(withoutPassword('https://:tok-123456@host/a.git')).toBe('https://host/a.git');
  });

  it('masks the password, raw and decoded, in any text', () => {
    const url = 'https://ci:pa%40ss-123@host/app.git';
    expect(remoteSecrets(url)).toEqual(['pa%40ss-123', 'pa@ss-123']);
    expect(maskRemote(`fatal: could not read from ${url} (pa@ss-123)`, url)).toBe(
      'fatal: could not read from https://ci:***@host/app.git (***)',
    );
  });

  it('reaches the remote with the password off the command line: an http header in the environment', () => {
    expect(remoteAccess('https://ci:s3cret@git.example.com/app.git')).toEqual({
      url: 'https://ci@git.example.com/app.git',
      env: {
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'http.extraHeader',
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from('ci:s3cret').toString('base64')}`,
      },
    });
    expect(remoteAccess('ssh://git:pw@host/app.git')).toEqual({ url: 'ssh://git@host/app.git', env: {} });
    expect(remoteAccess('/srv/git/app.git')).toEqual({ url: '/srv/git/app.git', env: {} });
  });
});
