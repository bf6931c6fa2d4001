/** The strings of `src/onboarding/`. */
export const onboarding = {};
