import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUserError } from '../../src/errors.ts';
import { intOption, optionalIntOption, parseCommand } from '../../src/cli/args.ts';
import { collectOutput } from '../../src/cli/output.ts';

const options = { out: { type: 'string' }, json: { type: 'boolean' } } as const;
const oneLine = (pattern: RegExp) => (e: unknown) =>
  isUserError(e) && pattern.test(e.message) && !e.message.includes('\n');

test('parseCommand answers --help by printing the help text and returning null', () => {
  const output = collectOutput();
  assert.equal(parseCommand('demo', ['-h'], { help: 'usage: demo', options }, output), null);
  assert.equal(parseCommand('demo', ['--out', 'x', '--help'], { help: 'usage: demo', options }, output), null);
  assert.deepEqual(output.lines, ['usage: demo', 'usage: demo']);
  assert.deepEqual(output.messages, []);
});

test('parseCommand returns the values and checks the positional arguments', () => {
  const parsed = parseCommand('demo', ['--out', 'x', '--json'], { help: '', options });
  assert.equal(parsed?.values.out, 'x');
  assert.equal(parsed?.values.json, true);
  assert.deepEqual(parseCommand('inspect', ['logs'], { help: '', options, positional: 'log directory' })?.positionals, [
    'logs',
  ]);
  assert.throws(
    () => parseCommand('demo', ['stray'], { help: '', options }),
    oneLine(/^demo: unexpected argument 'stray'; see 'embedding-timelapse demo --help'$/),
  );
  assert.throws(
    () => parseCommand('inspect', [], { help: '', options, positional: 'log directory' }),
    oneLine(/^inspect: expected one log directory, got 0/),
  );
  assert.throws(
    () => parseCommand('inspect', ['a', 'b'], { help: '', options, positional: 'log directory' }),
    oneLine(/got 2/),
  );
});

test('option mistakes are one line, also where node explains them over several', () => {
  assert.throws(
    () => parseCommand('demo', ['--bogus'], { help: '', options }),
    oneLine(/^demo: Unknown option '--bogus'; see/),
  );
  assert.throws(
    () => parseCommand('demo', ['--out', '-3'], { help: '', options }),
    oneLine(/^demo: option '--out' needs a value; to give one that starts with '-', write --out=-/),
  );
  assert.throws(
    () => parseCommand('demo', ['--json=yes'], { help: '', options }),
    oneLine(/^demo: Option '--json' does not take an argument/),
  );
});

test('optionalIntOption leaves an absent option undefined and checks a given one', () => {
  assert.equal(optionalIntOption('train', 'seed', undefined), undefined);
  assert.equal(optionalIntOption('train', 'epochs', '3', 1), 3);
  assert.throws(
    () => optionalIntOption('train', 'epochs', '0', 1),
    oneLine(/^train: --epochs must be an integer >= 1, got '0'$/),
  );
});

test('integer options take decimal digits only: 1e3, 0x10, 0b1, 1.0 and spaces are refused', () => {
  assert.equal(intOption('view', 'port', '1000', 6007), 1000);
  assert.equal(intOption('train', 'seed', '010', 0), 10);
  for (const value of [
    '1e3',
    '0x10',
    '0b1',
    '0o7',
    '1.0',
    ' 12',
    '12 ',
    '',
    '+5',
    'Infinity',
    '99999999999999999999',
  ]) {
    assert.throws(
      () => intOption('view', 'port', value, 6007),
      oneLine(/^view: --port must be an integer >= 0, got '.*'$/),
      `'${value}' must be refused`,
    );
  }
  assert.throws(() => optionalIntOption('train', 'seed', '0x10'), oneLine(/^train: --seed must be an integer >= 0/));
});
