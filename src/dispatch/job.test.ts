import { describe, expect, it } from 'vitest';
import { jobIdOf } from './job.js';

describe('jobIdOf', () => {
  it("gives a check's blame trial a job of its own, an id BullMQ takes (three ':'-separated parts)", () => {
    const attempt = jobIdOf('r1', 'build', 1);
    const trial = jobIdOf('r1', 'build', 1, 'alone-back:end');
    expect(attempt).toBe('r1:build:1');
    // Under the attempt's id the trial's job added nothing and got the attempt's result back: every
    // task verified was blamed, after a wait for the sweep.
    expect(trial).not.toBe(attempt);
    expect(trial.split(':')).toHaveLength(3);
    expect(jobIdOf('r1', 'build', 1, 'alone-front')).not.toBe(jobIdOf('r1', 'build', 1, 'alone-back'));
    // The run that confirms a check's failure on the same tree is a job of its own too.
    expect(jobIdOf('r1', 'build', 1, 'again')).toBe('r1:build:1.again');
  });
});
