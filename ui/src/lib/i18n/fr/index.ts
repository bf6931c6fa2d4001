/** Les textes en français : les mêmes clés que `en/` (le type l'impose). */
import type { Translation } from '../catalog';
import type { English } from '../en';
import { common } from './common';
import { app } from './app';
import { onboarding } from './onboarding';
import { presence } from './presence';
import { spaces } from './spaces';
import { lib } from './lib';
import { chat } from './chat';
import { attachments } from './attachments';
import { emoji } from './emoji';
import { calls } from './calls';
import { settings } from './settings';
import { dates } from './dates';
import { lists } from './lists';
import { memories } from './memories';
import { search } from './search';

export const fr: Translation<English> = {
  common,
  app,
  onboarding,
  presence,
  spaces,
  lib,
  chat,
  attachments,
  emoji,
  calls,
  settings,
  dates,
  lists,
  memories,
  search,
};
