import type { Translation } from '../catalog';
import type { lists as english } from '../en/lists';

export const lists: Translation<typeof english> = {};
