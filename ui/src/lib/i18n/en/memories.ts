/** The strings of `src/memories/`. */
export const memories = {};
