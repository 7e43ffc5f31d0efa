import { describe, expect, it } from 'vitest';
import { writeScopesOverlap } from './glob-overlap.js';
import { strayWrites } from './write-scope.js';

describe('strayWrites: what a task changed outside the files it may write', () => {
  it('reads globs from the task’s folder, resolving . and ..', () => {
    const changed = ['pkg/src/a.ts', 'common/x.ts', 'README.md', 'pkg/README.md'];
    expect(strayWrites(changed, ['src/**', '../common/**'], 'pkg')).toEqual(['README.md', 'pkg/README.md']);
    expect(strayWrites(changed, ['./src/../src/**', '../common/'], 'pkg')).toEqual(['README.md', 'pkg/README.md']);
    expect(strayWrites(changed, ['**'], '')).toEqual([]);
    expect(strayWrites(changed, ['**'], 'pkg')).toEqual(['common/x.ts', 'README.md']);
  });

  it('a path without magic is that file or everything under that folder', () => {
    expect(strayWrites(['dist/app.js', 'dist/x/y.js', 'distro.txt'], ['dist'], '')).toEqual(['distro.txt']);
    expect(strayWrites(['package.json', 'package.json.bak'], ['package.json'], '')).toEqual(['package.json.bak']);
  });

  it('braces, extglobs and dot files count as picomatch reads them', () => {
    const changed = ['src/a/x.ts', 'src/b/x.ts', 'src/c/x.ts', 'src/.env'];
    expect(strayWrites(changed, ['src/@(a|c)/x.ts'], '')).toEqual(['src/b/x.ts', 'src/.env']);
    expect(strayWrites(changed, ['src/!(b)/x.ts'], '')).toEqual(['src/b/x.ts', 'src/.env']);
    expect(strayWrites(changed, ['src/{a,b}/*.ts', 'src/*'], '')).toEqual(['src/c/x.ts']);
  });

  it('a negated glob covers all but what it names, from the task’s folder', () => {
    expect(strayWrites(['sub/dist/a.js', 'sub/src/a.ts', 'top.txt'], ['!dist/**'], 'sub')).toEqual(['sub/dist/a.js']);
  });
});

describe('a negated glob in a task’s folder', () => {
  it('is still negated when read from the plan’s folder, so the lock sees it may write anything', () => {
    // `!dist/**` from sub writes sub/src/x.ts: it was read as the literal path `sub/!dist/**`.
    expect(writeScopesOverlap(['!dist/**'], ['sub/src/x.ts'], 'sub')).toBe(true);
  });
});
