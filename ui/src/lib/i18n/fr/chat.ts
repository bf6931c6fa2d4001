import type { Translation } from '../catalog';
import type { chat as english } from '../en/chat';

export const chat: Translation<typeof english> = {};
