/** Call fixtures for tests (shared with other features' tests from `src/test/`). */
export { callInfo } from '../test/calls';
