// Harrier's service kit: configuration, logging, NATS connections, lifecycle.

export { loadConfig, redacted, DEFAULT_CONFIG_PATHS, type ConfigError, type LoadConfigInput, type LoadConfigResult } from './config/load.js';
export type { CollectorConfig, HarrierConfig, NatsConfig, RuleSelection } from './config/types.js';
export { createLogger, componentLogger, eventFields, type Logger, type LoggerOptions } from './log.js';
export { connectNats, drainNats, natsOptions, NatsConnectError, type ConnectNatsOptions, type NatsConnection } from './nats.js';
export { Lifecycle, type Teardown, type LifecycleOptions } from './lifecycle.js';
export { ensureStream, ensureEventsStream, isStreamNotFound, EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, type EventsStreamOptions, type StreamLimits } from './streams.js';
export { startEmbeddedNats, EmbeddedNatsError, type EmbeddedNats, type EmbeddedNatsOptions } from './embedded.js';
export { serveHealth, type HealthServer, type HealthServerOptions } from './health.js';
