/** The strings of `src/chat/attachments/`. */
export const attachments = {};
