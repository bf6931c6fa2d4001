/** The strings of `src/app/`. */
export const app = {};
