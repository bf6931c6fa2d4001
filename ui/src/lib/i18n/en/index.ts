/**
 * The English strings: the reference every translation follows. One file per part of the
 * window, named after its folder under `src/` (`attachments` and `emoji` are `chat/`'s);
 * `common` holds the words many parts share.
 */
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

export const en = {
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

export type English = typeof en;
