export { backendPresent } from './ipc';
export { localProfile } from './profile';
export type { AppError, Avatar, DeviceId, ErrorCode, Outcome, Person, PersonId } from './types';
