export * from './emulator.js';
export * from './socket.js';
export * from './signer.js';
