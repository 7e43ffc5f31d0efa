import { describe, expect, it } from 'vitest';
import { blameTrials, checkFailed, flakyLine, type Verdict } from './check-failed.js';

const v = (id: string, fixes = 0, fixAttempts?: number) => ({ id, fixes, fixAttempts });
const base = { check: 'build', output: 'error TS2322 in api.ts', branch: 'weft/r1' };
const alone = (entries: [string, Verdict][]) => new Map(entries);

describe('blameTrials: which verified tasks the check runs with on their own', () => {
  it('each of two or more, when the workspace can make such trees; none for one task or without git', () => {
    expect(blameTrials(['backend', 'frontend'], true)).toEqual(['backend', 'frontend']);
    expect(blameTrials(['backend'], true)).toEqual([]);
    expect(blameTrials(['backend', 'frontend'], false)).toEqual([]);
  });
});

describe('checkFailed: whom a failed check goes back to', () => {
  it('only the task that breaks it on its own, naming the one that passes', () => {
    const d = checkFailed({
      ...base,
      verified: [v('backend'), v('frontend')],
      alone: alone([
        ['backend', 'fails'],
        ['frontend', 'passes'],
      ]),
    });
    expect(d).toMatchObject({
      kind: 'route',
      to: ['backend'],
      summary: 'check build: broken by backend; frontend passes on its own',
    });
    expect(d.kind === 'route' && d.feedback).toContain('error TS2322 in api.ts');
  });

  it('both when both break it on their own', () => {
    const d = checkFailed({
      ...base,
      verified: [v('backend'), v('frontend')],
      alone: alone([
        ['backend', 'fails'],
        ['frontend', 'fails'],
      ]),
    });
    expect(d).toMatchObject({
      kind: 'route',
      to: ['backend', 'frontend'],
      summary: 'check build: broken by backend and frontend',
    });
  });

  it('all of them, with the combined failure, when only the combination breaks it', () => {
    const d = checkFailed({
      ...base,
      verified: [v('backend'), v('frontend')],
      alone: alone([
        ['backend', 'passes'],
        ['frontend', 'passes'],
      ]),
    });
    expect(d).toMatchObject({
      kind: 'route',
      to: ['backend', 'frontend'],
      summary: 'check build: broken only by backend and frontend together; each passes on its own',
    });
    expect(d.kind === 'route' && d.feedback).toContain('together they break it');
  });

  it('all of them when blame could not run (no trials, or a trial that could not be made), saying so', () => {
    const none = checkFailed({ ...base, verified: [v('a'), v('b')], alone: new Map() });
    expect(none).toMatchObject({
      kind: 'route',
      to: ['a', 'b'],
      summary: 'check build: failed; a and b could not be checked on their own, so a and b are told',
    });
    expect(none.kind === 'route' && none.feedback).toContain('Which of you broke it could not be told');
    expect(
      checkFailed({
        ...base,
        verified: [v('a'), v('b')],
        alone: alone([
          ['a', 'unknown'],
          ['b', 'passes'],
        ]),
      }),
    ).toMatchObject({
      to: ['a', 'b'],
      summary: 'check build: failed; a could not be checked on its own; b passes on its own, so a and b are told',
    });
    // One task verified: it is the culprit, checked alone or not.
    expect(checkFailed({ ...base, verified: [v('a')], alone: new Map() })).toMatchObject({
      to: ['a'],
      summary: 'check build: broken by a',
    });
  });

  it('a culprit whose fixAttempts are spent ends it: the reason names it and holds the output', () => {
    const d = checkFailed({
      ...base,
      verified: [v('backend', 1, 1), v('frontend')],
      alone: alone([
        ['backend', 'fails'],
        ['frontend', 'passes'],
      ]),
    });
    expect(d).toEqual({
      kind: 'fail',
      summary: 'check build: broken by backend; frontend passes on its own',
      culprits: ['backend'],
      reason:
        'check build: broken by backend; frontend passes on its own (backend after 1 fix attempt); its output:\nerror TS2322 in api.ts',
    });
  });

  it('the default is 2 fix attempts; spent fixes of a task that is not to blame do not end it', () => {
    expect(checkFailed({ ...base, verified: [v('a', 1)], alone: new Map() }).kind).toBe('route');
    expect(checkFailed({ ...base, verified: [v('a', 2)], alone: new Map() }).kind).toBe('fail');
    const d = checkFailed({
      ...base,
      verified: [v('a', 0), v('b', 5, 1)],
      alone: alone([
        ['a', 'fails'],
        ['b', 'passes'],
      ]),
    });
    expect(d).toMatchObject({ kind: 'route', to: ['a'] });
  });
});

describe('flakyLine: how a flaky check failed, in one line', () => {
  it('the message and the last line the check wrote; the message alone when that line is already in it', () => {
    expect(
      flakyLine({ message: 'exited with code 1 after 0.2s', stderrTail: 'connecting…\nFLAKE: connection reset\n\n' }),
    ).toBe('exited with code 1 after 0.2s: FLAKE: connection reset');
    expect(flakyLine({ message: 'timed out after 5s' })).toBe('timed out after 5s');
    expect(flakyLine({ message: 'bad output: x\nmore', stderrTail: 'x' })).toBe('bad output: x');
  });
});
