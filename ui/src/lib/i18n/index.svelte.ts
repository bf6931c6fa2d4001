/**
 * The window's language: every string a person reads comes from `t(key)`, looked up in the
 * catalogs of this folder (`en/`, the reference, and `fr/`), with its placeholders (`{{name}}`)
 * put in and its plural form (`key_one` / `key_other`) chosen by `count` with the language's own
 * rules (`formats.ts`, which also writes dates, times and numbers without `Intl`). That is all the catalogs ask of a translation library, so Duet has
 * none: i18next did the same in 50 kB of the page's script, and its code and objects were a
 * measurable part of the window's memory (docs/desktop-app.md).
 *
 * The choice is this device's, like the theme (Settings → Appearance), kept in `localStorage`
 * under `duet.language`: System (the default: French when the computer's first language is
 * French, else English), English or Français. `t` reads the language from a rune, so whatever
 * a component shows through it follows a change at once; a string computed once at module
 * level would not, which is why labels live in functions, not constants.
 *
 * Dates and times follow the same choice (`formats()`), with the computer's region when it
 * speaks that language (en-GB stays en-GB). What the node says in its own words (a refused
 * ticket, a failed send) arrives in English: the node has no catalog.
 */
import type { KeyOf } from './catalog';
import { en, type English } from './en';
import { formatsFor, pluralForm, type Formats } from './formats';

export const LANGUAGE_CHOICES = ['system', 'en', 'fr'] as const;
export type LanguageChoice = (typeof LANGUAGE_CHOICES)[number];
export type Language = Exclude<LanguageChoice, 'system'>;
export type MessageKey = KeyOf<English>;

/** Each language by its own name, as language pickers show them. */
export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', fr: 'Français' };

export const LANGUAGE_KEY = 'duet.language';

type Tree = { readonly [key: string]: string | Tree };

/**
 * The catalogs loaded so far. English is always here (the reference, and what a key missing
 * elsewhere falls back to); every other language is a chunk of the page's script of its own
 * (French: 40 kB), imported the first time the window speaks it, so a window in English never
 * holds it (docs/desktop-app.md). A rune: whatever `t` drew in English while a catalog was on
 * its way is drawn again when it lands.
 */
let catalogs = $state.raw<Partial<Record<Language, Tree>>>({ en });
const loading: Partial<Record<Language, Promise<void>>> = {};
const IMPORTS: Record<Exclude<Language, 'en'>, () => Promise<Tree>> = {
  fr: () => import('./fr').then((m) => m.fr),
};

/** Loads `lang`'s catalog if it is not here yet; resolves once it is (or could not be). */
function load(lang: Language): Promise<void> {
  if (lang === 'en') return Promise.resolve();
  return (loading[lang] ??= IMPORTS[lang]()
    .then((catalog) => {
      catalogs = { ...catalogs, [lang]: catalog };
    })
    .catch((e: unknown) => {
      // The window goes on in English; choosing the language again tries again.
      delete loading[lang];
      console.error(`the ${LANGUAGE_NAMES[lang]} catalog did not load`, e);
    }));
}

/** The string at dotted path `key` in `catalog`, if there is one. */
function lookup(catalog: Tree, key: string): string | undefined {
  let node: string | Tree | undefined = catalog;
  for (const part of key.split('.')) {
    if (node === undefined || typeof node === 'string') return undefined;
    node = node[part];
  }
  return typeof node === 'string' ? node : undefined;
}

/** `key`'s string in `lang`: its plural form for `count` when it has them, else its one form. */
function template(lang: Language, key: string, count: unknown): string | undefined {
  const catalog = catalogs[lang];
  if (catalog === undefined) return undefined;
  if (typeof count === 'number') {
    const plural = lookup(catalog, `${key}_${pluralForm(lang, count)}`) ?? lookup(catalog, `${key}_other`);
    if (plural !== undefined) return plural;
  }
  return lookup(catalog, key);
}

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

function isChoice(value: unknown): value is LanguageChoice {
  return (LANGUAGE_CHOICES as readonly unknown[]).includes(value);
}

/** The computer's languages, most preferred first. */
function systemLanguages(): readonly string[] {
  const nav = globalThis.navigator;
  if (!nav) return [];
  return nav.languages?.length ? nav.languages : [nav.language];
}

/** What System means on this computer: the first of its languages Duet speaks, else English. */
export function systemLanguage(languages: readonly string[] = systemLanguages()): Language {
  const first = languages[0]?.toLowerCase() ?? '';
  return first === 'fr' || first.startsWith('fr-') ? 'fr' : 'en';
}

function stored(): LanguageChoice {
  try {
    const value = globalThis.localStorage?.getItem(LANGUAGE_KEY);
    return isChoice(value) ? value : 'system';
  } catch {
    return 'system';
  }
}

function keep(choice: LanguageChoice): void {
  try {
    globalThis.localStorage?.setItem(LANGUAGE_KEY, choice);
  } catch {
    // Not kept across restarts, but it still applies now.
  }
}

class LanguageSetting {
  choice = $state<LanguageChoice>('system');
  /** The language the window speaks now. */
  current = $state<Language>(systemLanguage());

  /**
   * Reads the stored choice and applies it (`main.ts`, before the window is mounted); resolves
   * once its catalog is loaded, so the first paint already speaks it.
   */
  start(): Promise<void> {
    this.#apply(stored());
    return this.ready();
  }

  /** Resolves once `lang`'s catalog (by default the one the window speaks) is loaded. */
  ready(lang: Language = this.current): Promise<void> {
    return load(lang);
  }

  /** Applies a choice at once and keeps it for the next start. */
  choose(choice: LanguageChoice): void {
    const next = isChoice(choice) ? choice : 'system';
    this.#apply(next);
    keep(next);
  }

  #apply(choice: LanguageChoice): void {
    this.choice = choice;
    this.current = choice === 'system' ? systemLanguage() : choice;
    void load(this.current);
    if (typeof document !== 'undefined') document.documentElement.lang = this.current;
  }
}

export const language = new LanguageSetting();

/** The string for `key` in the window's language, with `vars` put in (`count` picks a plural). */
export function t(key: MessageKey, vars?: Record<string, unknown>): string {
  const count = vars?.count;
  // A key the window's language lacks is said in English; one no catalog has, as itself.
  const text = template(language.current, key, count) ?? template('en', key, count) ?? key;
  if (!vars) return text;
  // Svelte escapes what it puts in the page: nothing here is ever read as HTML. A placeholder
  // given no value reads as nothing.
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = vars[name];
    return value === undefined || value === null ? '' : String(value);
  });
}

/** Stands in for the part a component draws itself; no catalog string holds it. */
const SLOT = '\u0000';

/**
 * A sentence with one part the component draws itself (a `<code>`, a path): the words before
 * and after placeholder `slot`, so the sentence stays one key and keeps its order in every
 * language (`{before}<code>duet relay</code>{after}`).
 */
export function around(key: MessageKey, slot: string, vars?: Record<string, unknown>): [string, string] {
  const [before = '', after = ''] = t(key, { ...vars, [slot]: SLOT }).split(SLOT);
  return [before, after];
}

/**
 * How the window writes dates, times and numbers: in its language, with the computer's region
 * when the computer speaks that language (en-GB stays en-GB; an English window on a French
 * computer writes as English does).
 */
export function formats(): Formats {
  const wanted = language.current;
  const own = systemLanguages().find((tag) => tag.toLowerCase().split(/[-_]/)[0] === wanted);
  return formatsFor(wanted, own ?? wanted);
}
