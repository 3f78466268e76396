// The Lambda handler's entry (copied to .build/lambda/index.mjs by scripts/bundle-lambda.mjs). It turns on V8's
// compile cache from the cache shipped beside it, then loads the app (app.mjs and its chunks), so that a cold
// start reads the bytecode made at build time instead of compiling the bundle again. The cache is read-only on
// Lambda (the code directory is): Node only reads it. A cache made by another Node version or architecture is
// refused by V8's checks and the app is compiled as without it: slower, never different.
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

// Not under serverless-offline (npm run offline), which runs this very folder, writable: Node would write there the
// bytecode of every chunk the cache lacks (the password rules, the OpenAPI document), and the next `serverless
// package` shipped it (31 files where the bundle makes 29: an outside review). Offline is every request a cold start
// without the cache, as on AWS when the cache was made for another architecture (docs/lambda.md, "Compile cache").
if (process.env.IS_OFFLINE !== 'true') {
  enableCompileCache({ directory: fileURLToPath(new URL('./compile-cache', import.meta.url)), portable: true });
}

export const { handler } = await import('./app.mjs');
