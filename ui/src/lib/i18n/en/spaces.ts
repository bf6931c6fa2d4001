/** The strings of `src/spaces/`. */
export const spaces = {};
