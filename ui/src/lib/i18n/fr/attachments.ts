import type { Translation } from '../catalog';
import type { attachments as english } from '../en/attachments';

export const attachments: Translation<typeof english> = {};
