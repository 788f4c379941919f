// An async Node.js handler (ES module). Module-level state survives warm invocations.
let invocations = 0;

export const handler = async (event, context) => {
  invocations += 1;
  const name = (event && event.name) || 'world';
  console.log(`greeting ${name}`);
  return {
    message: `Hello, ${name}!`,
    invocations,
    requestId: context.awsRequestId,
    function: context.functionName,
    runtime: process.env.AWS_EXECUTION_ENV,
  };
};
