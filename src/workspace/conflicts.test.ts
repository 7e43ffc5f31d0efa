import { describe, expect, it } from 'vitest';
import { conflictFeedback, parseConflicts } from './conflicts.js';

describe('parseConflicts', () => {
  it('reads diff3 and plain conflict regions with their lines', () => {
    const text = [
      'a',
      '<<<<<<< HEAD',
      'ours',
      '||||||| base',
      'old',
      '=======',
      'theirs',
      '>>>>>>> weft/r',
      'b',
      '<<<<<<< HEAD',
      '=======',
      'x',
      '>>>>>>> other',
      '',
    ].join('\n');
    expect(parseConflicts(text)).toEqual([
      { line: 2, ours: ['ours'], base: ['old'], theirs: ['theirs'] },
      { line: 10, ours: [], base: undefined, theirs: ['x'] },
    ]);
  });

  it('ignores text that only looks like a marker, and an unclosed region', () => {
    expect(parseConflicts('<<<<<<<<< not one\n=======\n<<<<<<< HEAD\nno end\n')).toEqual([]);
  });
});

describe('conflictFeedback', () => {
  it('lists the files first and keeps the feedback bounded', () => {
    const big = Array.from({ length: 100 }, (_, i) => `line ${i}`);
    const files = Array.from({ length: 20 }, (_, i) => ({
      path: `f${i}.ts`,
      status: 'UU',
      hunks: [{ line: 1, ours: big, base: undefined, theirs: big }],
    }));
    const text = conflictFeedback({
      taskId: 't',
      integration: 'weft/r',
      files,
      mergedMeanwhile: ['weft: merge task a (run r)'],
    });
    expect(text.length).toBeLessThan(13_000);
    for (let i = 0; i < 20; i++) expect(text).toContain(`  - f${i}.ts (both changed it)`);
    expect(text).toContain('… 60 more lines');
    expect(text).toContain('(more conflict hunks left out; open the files to see them all)');
    expect(text).toContain('Merged meanwhile:\n  - weft: merge task a (run r)');
  });

  it('explains a conflict without text hunks', () => {
    const text = conflictFeedback({
      taskId: 't',
      integration: 'weft/r',
      files: [{ path: 'logo.png', status: 'UD', hunks: [] }],
      mergedMeanwhile: [],
    });
    expect(text).toContain('logo.png (changed on the integration branch, deleted by you)');
    expect(text).toMatch(/logo\.png: .* no text hunks/);
  });
});
