// Injected by esbuild into every module of the Lambda bundle: with code splitting, a chunk's decorated classes
// may be evaluated before the module that imports reflect-metadata, so every module imports it first.
import 'reflect-metadata';
