// The no-op the load tests and floors use: nothing but the runtime's own work per invocation.
export const handler = async () => ({});
