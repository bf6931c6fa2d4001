/** The strings of `src/settings/`. */
export const settings = {};
