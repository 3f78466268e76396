// Stands in for `require('semver')` in the Lambda bundle (scripts/lambda-bundle-options.mjs). Its index requires every
// function and class the package has; the bundle's one importer, fastify's plugin-utils.js, calls three, which this
// module takes from semver's own per-function files (entry points its README documents). Anything else asked of it is
// an error that names this file, not an undefined function far from here.
const used = {
  coerce: require('semver/functions/coerce'),
  gt: require('semver/functions/gt'),
  satisfies: require('semver/functions/satisfies'),
};
module.exports = new Proxy(used, {
  get(target, name) {
    if (name in target || typeof name === 'symbol' || name === '__esModule') return target[name];
    throw new Error(`semver.${String(name)} is not in Kura's Lambda bundle (scripts/bundle-stubs/semver-for-fastify.cjs)`);
  },
});
