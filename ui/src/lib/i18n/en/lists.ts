/** The strings of `src/lists/`. */
export const lists = {};
