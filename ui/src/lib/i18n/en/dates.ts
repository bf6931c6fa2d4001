/** The strings of `src/dates/`. */
export const dates = {};
