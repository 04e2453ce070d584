/** Token of the resolved options (defaults applied). */
export const CALLS_OPTIONS = Symbol('CALLS_OPTIONS');

/** Token of the module's ioredis client (null with the memory backend). */
export const CALLS_REDIS = Symbol('CALLS_REDIS');
