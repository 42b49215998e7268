export * from './errors.js';
export * from './frame.js';
export * from './decoder.js';
export * from './encoder.js';
export * from './messages.js';
export * from './defaults.js';
export * from './proxy-header.js';
export * from './text-form.js';
