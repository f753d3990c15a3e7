/**
 * The type of options given in code, derived from the one config schema so a
 * misspelt key (`save_tracez`) fails at compile time. Keys may be snake_case,
 * as in the config file, or camelCase; values are what the schema accepts.
 */
import type { z } from 'zod';
import type { moaConfigSchema } from './schema.js';

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
/** `base_url` may also be spelled `baseURL`, as the `openai` client spells it. */
type UrlCase<S extends string> = S extends `${infer Head}_url` ? `${CamelCase<Head>}URL` : never;

/** Every key in its snake_case and camelCase spelling, all optional, applied all the way down. */
export type EitherCase<T> =
  T extends readonly (infer Item)[] ? readonly EitherCase<Item>[]
    : T extends RegExp ? T
      : T extends Record<string, unknown> ? { [K in keyof T as K | CamelCase<K & string> | UrlCase<K & string>]?: EitherCase<T[K]> }
        : T;

export type MoaOptions = EitherCase<z.input<typeof moaConfigSchema>>;
