export * from './contract';
export * from './client';
export * from './result';
export * from './schema';
export * from './image';
export * from './studies';
export * from './analysis';
export * from './dispatch';
