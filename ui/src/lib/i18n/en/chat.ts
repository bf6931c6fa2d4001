/** The strings of `src/chat/`. */
export const chat = {};
