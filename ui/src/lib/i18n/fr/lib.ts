import type { Translation } from '../catalog';
import type { lib as english } from '../en/lib';

export const lib: Translation<typeof english> = {};
