import type { Translation } from '../catalog';
import type { calls as english } from '../en/calls';

export const calls: Translation<typeof english> = {};
