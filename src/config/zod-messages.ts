// Plain-language reasons for zod's generic issues, shared by the configuration loader and the import parser:
// "must be at least 1" rather than "Too small: expected number to be >=1", "is required" for a missing key.
import type { z } from 'zod';

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};
const plural = (n: number | bigint, word: string) => `${n} ${word}${n === 1 || n === 1n ? '' : 's'}`;

/** A zod error map for parse calls; a message written in the schema itself still wins over it. */
export const plainErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union'))
    return 'is required';
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_NAMES[issue.expected] ? `must be ${TYPE_NAMES[issue.expected]}` : undefined;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'array') return `must have at least ${plural(issue.minimum, 'item')}`;
      if (issue.origin === 'string')
        return issue.minimum === 1 ? 'must not be empty' : `must be at least ${plural(issue.minimum, 'character')}`;
      return issue.inclusive === false ? `must be more than ${issue.minimum}` : `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${plural(issue.maximum, 'item')}`;
      if (issue.origin === 'string') return `must be at most ${plural(issue.maximum, 'character')}`;
      return issue.inclusive === false ? `must be less than ${issue.maximum}` : `must be at most ${issue.maximum}`;
    default:
      return undefined;
  }
};

/** Formats a key path like customers[0].servers[1].checks[0].url. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : text ? `.${String(key)}` : String(key);
  return text || '(top level)';
}

/** One issue as `key.path: reason` lines (an unknown-keys issue names each key); `unknownKey` words that case. */
export function describeZodIssue(issue: z.core.$ZodIssue, unknownKey = 'unknown key'): string[] {
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => `${formatKeyPath([...issue.path, key])}: ${unknownKey}`);
  return [`${formatKeyPath(issue.path)}: ${issue.message}`];
}
