/** The strings of `src/lib/`. */
export const lib = {};
