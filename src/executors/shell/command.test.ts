import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'shell-quote';
import { commandProblem, MAX_COMMAND_LENGTH, parseCommand } from './command.js';

describe('parseCommand', () => {
  it('splits plain words at once, exactly as shell-quote does', () => {
    const plain = fc.stringMatching(/^[A-Za-z0-9 \t_\-./=,:+@%]{0,40}$/);
    fc.assert(
      fc.property(plain, (run) => {
        const expected = parse(run).filter((p): p is string => typeof p === 'string');
        const got = parseCommand(run);
        if (expected.length === 0)
          expect(got).toEqual({ error: 'is empty', fix: 'write the command to run, e.g. run: npm test' });
        else expect(got).toEqual({ argv: expected });
      }),
      { numRuns: 2000 },
    );
  });

  it('still refuses what needs a shell', () => {
    expect(parseCommand('ls | wc')).toMatchObject({ error: 'uses "|", which needs a shell' });
    expect(parseCommand('echo $HOME')).toMatchObject({ error: 'uses $HOME, which only a shell expands' });
    expect(parseCommand('ls *.ts')).toMatchObject({ error: 'uses the glob "*.ts", which only a shell expands' });
    expect(parseCommand('echo "a b" c')).toEqual({ argv: ['echo', 'a b', 'c'] });
    expect(parseCommand('echo ~/x')).toEqual({ argv: ['echo', '~/x'] });
  });
});

describe('commandProblem', () => {
  it("says what parseCommand's error says, and nothing when it gives argv", () => {
    const run = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9 \t_\-./=,:+@%]{0,40}$/),
      fc.stringMatching(/^[ \ta|$*#"'\\\0\n]{0,6}$/),
      fc.string(),
      fc.array(fc.oneof(fc.string(), fc.constantFrom('', 'a\0'))),
      fc.constantFrom(' '.repeat(MAX_COMMAND_LENGTH + 1), `${'a'.repeat(MAX_COMMAND_LENGTH)} `),
    );
    fc.assert(
      fc.property(run, (r) => {
        const parsed = parseCommand(r);
        expect(commandProblem(r)).toEqual('argv' in parsed ? undefined : parsed);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a "${" no "}" closes', () => {
  it('is a problem with the command, not a throw (shell-quote throws "Bad substitution" on it)', () => {
    for (const run of ['echo ${', 'echo ${HOME', 'a ${ b'])
      expect(parseCommand(run)).toEqual({
        error: 'has a "${" that no "}" closes, which only a shell would try to read',
      });
  });
});
