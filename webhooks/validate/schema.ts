import * as E from 'fp-ts/Either';
import type * as t from 'io-ts';
import { decode } from '../../api/decode.ts';
import { violation, type Violation } from '../findings.ts';

/** Decodes an object with its kind's codec: the typed value, or one violation per problem found. */
export function decodeObject<A, O>(codec: t.Type<A, O, unknown>, object: unknown): E.Either<readonly Violation[], A> {
  const r = decode(codec, object);
  if (E.isRight(r)) return r;
  return E.left(r.left.problems.map((p) => violation('schema', p.path, p.message)));
}
