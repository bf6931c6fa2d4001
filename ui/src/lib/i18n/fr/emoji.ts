import type { Translation } from '../catalog';
import type { emoji as english } from '../en/emoji';

export const emoji: Translation<typeof english> = {};
