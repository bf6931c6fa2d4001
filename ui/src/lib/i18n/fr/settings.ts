import type { Translation } from '../catalog';
import type { settings as english } from '../en/settings';

export const settings: Translation<typeof english> = {};
