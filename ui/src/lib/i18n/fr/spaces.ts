import type { Translation } from '../catalog';
import type { spaces as english } from '../en/spaces';

export const spaces: Translation<typeof english> = {};
