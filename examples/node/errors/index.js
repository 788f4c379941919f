// Node handlers that fail the ways users' handlers do (used by the tests).
exports.throws = async (event) => {
  throw new TypeError(`bad input: ${JSON.stringify(event)}`);
};

exports.callbackError = (event, context, callback) => {
  callback(new Error('callback failure'));
};
