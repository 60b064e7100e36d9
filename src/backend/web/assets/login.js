// The server never sees the URL's #fragment, so when the login form stands
// in for the app at `/#/traces/...`, keep the view to come back to.
const field = document.getElementById("return-url");
if (field && location.pathname !== "/login" && location.hash) {
  field.value = location.pathname + location.search + location.hash;
}
