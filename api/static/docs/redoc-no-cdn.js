// ReDoc's side menu always shows Redocly's logo from cdn.redoc.ly, which the
// CSP blocks (a violation in the console). Never ask for it: an empty data:
// image fails to load, and ReDoc then leaves the logo out.
(() => {
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      src.set.call(this, String(value).startsWith("https://cdn.redoc.ly/") ? "data:," : value);
    },
  });
})();
