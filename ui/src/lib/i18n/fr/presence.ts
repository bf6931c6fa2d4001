import type { Translation } from '../catalog';
import type { presence as english } from '../en/presence';

export const presence: Translation<typeof english> = {};
