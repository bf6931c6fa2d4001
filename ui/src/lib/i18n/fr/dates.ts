import type { Translation } from '../catalog';
import type { dates as english } from '../en/dates';

export const dates: Translation<typeof english> = {};
