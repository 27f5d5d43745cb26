/** Hand-wrist bone age and radiograph-kind recognition: pure preparation, decisions and manifests. */
export * from './prepare';
export * from './kind';
export * from './estimate';
export * from './manifest';
export * from './summary';
