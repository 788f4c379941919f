// Uses a package that only a layer provides (examples/layers/node-greeting).
const greeting = require('greeting');

exports.handler = async (event) => ({
  message: greeting.greet((event && event.name) || 'world'),
  source: greeting.source,
  module: require.resolve('greeting'),
});
