/** The strings of `src/presence/`. */
export const presence = {};
