// matrix-js-sdk 43 targets Node 22; the machines here run Node 20, which
// lacks only Promise.withResolvers (ES2024) among what the client uses.
// Imported before the SDK so it is in place when the SDK loads.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
