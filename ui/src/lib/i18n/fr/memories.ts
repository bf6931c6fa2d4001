import type { Translation } from '../catalog';
import type { memories as english } from '../en/memories';

export const memories: Translation<typeof english> = {};
