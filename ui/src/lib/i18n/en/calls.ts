/** The strings of `src/calls/`. */
export const calls = {};
