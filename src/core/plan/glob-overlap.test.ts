import fc from 'fast-check';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { expandBraces, globsOverlap, normaliseGlob, writeScopesOverlap } from './glob-overlap.js';

describe('globsOverlap', () => {
  it.each([
    // `**` reaches any depth, `*` stays in one folder.
    ['src/**', 'src/api/index.ts', true],
    ['src/*.ts', 'src/api/index.ts', false],
    ['src/*/index.ts', 'src/api/index.ts', true],
    ['**/*.md', 'README.md', true],
    ['**', 'a/b/c', true],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**/b', 'a/x/*.c', false],
    // A path without magic may be a folder: a/x/c/b is under it.
    ['a/**/b', 'a/x/c', true],
    ['src/**/*.test.ts', 'src/**/*.spec.ts', false],
    ['src/**/*.ts', 'src/api/**', true],
    ['docs/*.md', 'README.md', false],
    // `*` and `?` inside a segment.
    ['*.ts', '*.js', false],
    ['a*', '*b', true],
    ['api-*.json', 'api-v2.json', true],
    ['file?.txt', 'file1.txt', true],
    ['file?.txt', 'file10.txt', false],
    ['??.md', 'a.md', false],
    // Braces, nested too.
    ['src/{api,web}/**', 'src/web/app.ts', true],
    ['src/{api,web}/**', 'src/cli/main.ts', false],
    ['{a,{b,c}}.ts', 'c.ts', true],
    ['docs/{guide,api}.md', 'docs/*.md', true],
    // Classes count as "any character": a possible overlap is reported rather than missed.
    ['file[0-9].txt', 'file7.txt', true],
    ['file[0-9].txt', 'fileA.txt', true],
    ['file[0-9].txt', 'file10.txt', false],
    // Directories and spelling.
    ['src/', 'src/a/b.ts', true],
    ['src/', 'srcs/a.ts', false],
    ['./src/a.ts', 'src/a.ts', true],
    ['src//a.ts', 'src/a.ts', true],
    ['src\\win\\a.ts', 'src/win/a.ts', true],
    ['', 'anything/at/all', true],
    // Extglobs, as picomatch reads them: a possible overlap is reported rather than missed.
    ['src/!(b)/x.ts', 'src/a/x.ts', true],
    ['src/@(a|c)/x.ts', 'src/a/x.ts', true],
    ['src/+(a)/x.ts', 'src/a/y.ts', false],
    ['!dist/**', 'src/a.ts', true],
  ])('%s and %s overlap: %s', (a, b, expected) => {
    expect(globsOverlap(a, b)).toBe(expected);
    expect(globsOverlap(b, a)).toBe(expected);
  });

  it('never misses an overlap: if picomatch matches one path with both globs, they overlap', () => {
    fc.assert(
      fc.property(
        pathArbitrary.chain((path) =>
          fc.tuple(fc.constant(path), globMatching(path), fc.oneof(globMatching(path), randomGlob)),
        ),
        ([path, a, b]) => {
          if (picomatch(a)(path) && picomatch(b)(path)) expect(globsOverlap(a, b)).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('is symmetric, and every glob overlaps itself', () => {
    fc.assert(
      fc.property(randomGlob, randomGlob, (a, b) => {
        expect(globsOverlap(a, b)).toBe(globsOverlap(b, a));
        expect(globsOverlap(a, a)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('writeScopesOverlap', () => {
  it('compares every glob of one task with every glob of the other', () => {
    expect(writeScopesOverlap(['README.md', 'docs/'], ['src/**', 'docs/guide.md'])).toBe(true);
    expect(writeScopesOverlap(['README.md', 'docs/'], ['src/**', 'CHANGELOG.md'])).toBe(false);
    expect(writeScopesOverlap([], ['**'])).toBe(false);
  });

  it("reads each task's globs from its own folder (cwd)", () => {
    expect(writeScopesOverlap(['x.ts'], ['sub/x.ts'], 'sub', undefined)).toBe(true);
    expect(writeScopesOverlap(['../x.ts'], ['x.ts'], 'sub/deep', 'sub')).toBe(true);
    expect(writeScopesOverlap(['**'], ['other/a.ts'], 'sub', '.')).toBe(false);
    expect(writeScopesOverlap(['**'], ['sub/a.ts'], './sub/', undefined)).toBe(true);
    expect(writeScopesOverlap(['{a,../b}.ts'], ['b.ts'], 'sub', undefined)).toBe(true);
  });
});

describe('expandBraces and normaliseGlob', () => {
  it('expands alternatives, nested and repeated', () => {
    expect(expandBraces('src/{a,b}/{x,y}.ts')).toEqual(['src/a/x.ts', 'src/a/y.ts', 'src/b/x.ts', 'src/b/y.ts']);
    expect(expandBraces('{a,{b,c}d}')).toEqual(['a', 'bd', 'cd']);
    expect(expandBraces('{,x}y')).toEqual(['y', 'xy']);
    expect(expandBraces('{a,b')).toEqual(['{a,b']);
  });

  it('expands numeric and letter ranges as picomatch does', () => {
    expect(expandBraces('part{1..3}.csv')).toEqual(['part1.csv', 'part2.csv', 'part3.csv']);
    expect(expandBraces('{c..a}')).toEqual(['c', 'b', 'a']);
    expect(globsOverlap('out/part{1..3}.csv', 'out/part2.csv')).toBe(true);
    expect(globsOverlap('out/part{1..3}.csv', 'out/part4.csv')).toBe(false);
    // A range too long to list is taken as "anything here", never as nothing.
    expect(globsOverlap('out/{1..100000}.csv', 'out/77777.csv')).toBe(true);
  });

  it('reads a path without magic as that file or the folder and everything under it', () => {
    expect(globsOverlap('dist', 'dist/app.js')).toBe(true);
    expect(globsOverlap('src/api', 'src/*/handlers.ts')).toBe(true);
    expect(globsOverlap('{web,api}', 'api/x.ts')).toBe(true);
    expect(globsOverlap('dist', 'distro/app.js')).toBe(false);
    expect(globsOverlap('docs/a.md', 'docs/b.md')).toBe(false);
    expect(globsOverlap('.github', '.github/workflows/ci.yml')).toBe(true);
    // A name with an extension is a file: it does not overlap everything a ** glob could put under it.
    expect(globsOverlap('package.json', '**/*.ts')).toBe(false);
    expect(globsOverlap('package.json', '**/package.json')).toBe(true);
  });

  it('normalises folders, leading ./ and separators', () => {
    expect(normaliseGlob('./src/')).toBe('src/**');
    expect(normaliseGlob(' ././a//b\\c ')).toBe('a/b/c');
    expect(normaliseGlob('')).toBe('**');
  });

  it('takes a part away for each `..` after it, as the path it names', () => {
    expect(normaliseGlob('src/a/../a/x.ts')).toBe('src/a/x.ts');
    expect(normaliseGlob('src/./a/x.ts')).toBe('src/a/x.ts');
    expect(normaliseGlob('src/a/..')).toBe('src/**');
    expect(normaliseGlob('../x')).toBe('../x');
    expect(globsOverlap('src/a/../a/x.ts', 'src/a/x.ts')).toBe(true);
    expect(globsOverlap('src/*/../b.ts', 'src/b.ts')).toBe(true);
    // After `**` (no folder or many) the `..` is dropped: a/b.ts and a/c/b.ts are both still named.
    expect(globsOverlap('a/**/../b.ts', 'a/b.ts')).toBe(true);
    expect(globsOverlap('a/**/../b.ts', 'a/c/b.ts')).toBe(true);
  });
});

const SEGMENTS = ['a', 'b', 'ab', 'src', 'x1', 'x2', 'a.ts', 'b.ts', 'index.test.ts', 'file7.md', 'part2'];

const pathArbitrary = fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));

/** A glob for one segment that usually matches it: the segment, a wildcard, a class, a brace… */
function segmentGlob(segment: string): fc.Arbitrary<string> {
  const first = segment.charAt(0);
  const last = segment.charAt(segment.length - 1);
  return fc.constantFrom(
    segment,
    '*',
    '?'.repeat(segment.length),
    `${first}*`,
    `*${last}`,
    `*${segment.slice(1, 2)}*`,
    `[${first}z]${segment.slice(1)}`,
    `[!q]${segment.slice(1)}`,
    `{${segment},zz}`,
    `{zz,{${first}q,${segment}}}`,
    segment.replace(/\d/, '{1..3}'),
    segment.replace(/\d/, '?'),
    `@(${segment}|zz)`,
    '!(zz)',
    `+(${first})${segment.slice(1)}`,
    'zz',
  );
}

/** Globs built segment by segment from a path, with `**` sometimes standing for a run of segments. */
function globMatching(path: string): fc.Arbitrary<string> {
  const segments = path.split('/');
  return fc
    .tuple(
      fc.tuple(...segments.map(segmentGlob)),
      fc.array(fc.tuple(fc.nat(segments.length), fc.nat(segments.length)), { maxLength: 2 }),
      fc.boolean(),
    )
    .map(([parts, stars, trailingSlash]) => {
      let out = [...parts];
      for (const [from, length] of stars) {
        const at = Math.min(from, out.length);
        out = [...out.slice(0, at), '**', ...out.slice(at + Math.min(length, 2))];
      }
      const glob = out.join('/');
      return trailingSlash && out.at(-1) === '**' ? `${out.slice(0, -1).join('/')}/` : glob;
    })
    .filter((g) => g !== '/' && !g.startsWith('/'));
}

const randomGlob = fc
  .array(fc.constantFrom('a', 'b', '*', '**', '?', 'a*', '*.ts', '{a,b}', '[ab]', 'x?', 'src', '{x1,ab}', 'x{1..2}'), {
    minLength: 1,
    maxLength: 4,
  })
  .map((s) => s.join('/'));
