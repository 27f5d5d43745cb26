export * from './letterbox';
export * from './roi';
export * from './intensity';
export * from './peaks';
export * from './manifest';
export * from './scale';
export * from './quality';
