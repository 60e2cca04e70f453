/** The package entry: the typed client and its types. The server lives behind `baton serve`. */
export * from './client/index.js';
