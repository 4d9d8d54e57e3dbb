export * from '../instrumentation/index';
