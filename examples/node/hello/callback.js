// A callback-style Node.js handler (CommonJS): handler(event, context, callback).
exports.handler = (event, context, callback) => {
  setTimeout(() => callback(null, { echoed: event, style: 'callback' }), 5);
};
