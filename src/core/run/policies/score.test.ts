import { describe, expect, it } from 'vitest';
import { scoreOf, scoreRejection } from './score.js';

const ui = { id: 'ui', score: 'score', minScore: 6 };

describe('scoreOf / scoreRejection', () => {
  it('reads the number under the score key, own properties only', () => {
    expect(scoreOf(ui, { output: { score: 7 } })).toBe(7);
    expect(scoreOf(ui, { output: { score: '7' } })).toBeUndefined();
    expect(scoreOf(ui, { output: Object.create({ score: 9 }) as object })).toBeUndefined();
    expect(scoreOf({}, { output: { score: 7 } })).toBeUndefined();
  });

  it('keeps a result at or over minScore, sends one below back naming the score', () => {
    expect(scoreRejection(ui, { output: { score: 6 } })).toBeUndefined();
    expect(scoreRejection(ui, { output: { score: 4 } })).toMatchObject({
      message: 'score 4 is below minScore 6',
      code: 'WEFT_SCORE_TOO_LOW',
      score: 4,
    });
    expect(scoreRejection(ui, { output: {} })).toMatchObject({
      message: 'output has no numeric "score" to score (minScore 6)',
    });
    expect(scoreRejection({ id: 'ui', score: 'score' }, { output: { score: 1 } })).toBeUndefined();
  });
});
