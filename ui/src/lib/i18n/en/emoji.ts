/** The strings of `src/chat/emoji/`. */
export const emoji = {};
