/**
 * The shape of a translation and of the keys `t` takes, derived from the English catalog
 * (`en/`), which is the reference: every other language has exactly its keys (the type says
 * so, and `i18n.test.ts` checks the placeholders too).
 */

/** The same nesting as `T`, every leaf a string: what a translation of `T` must be. */
export type Translation<T> = { [K in keyof T]: T[K] extends string ? string : Translation<T[K]> };

/** Plural forms (CLDR's names): `key_one` and `key_other` are both called as `t('key', { count })`. */
type PluralSuffix = 'zero' | 'one' | 'two' | 'few' | 'many' | 'other';
type WithoutPlural<K extends string> = K extends `${infer Base}_${PluralSuffix}` ? Base : K;

/** Every leaf of `T` as a dotted path: `'chat.composer.placeholder'`. */
type Leaves<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${Prefix}${K}` : Leaves<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

/** A key of a catalog shaped like `T`, plural forms named by their base. */
export type KeyOf<T> = WithoutPlural<Leaves<T>>;
