/* The preferences page's "Turn on push in this browser": registers static/js/push-sw.js, subscribes with the
   deployment's VAPID public key and hands the subscription to the server. */
(function () {
  const button = document.getElementById("push-subscribe");
  const state = document.getElementById("push-state");
  if (!button || !("serviceWorker" in navigator) || !("PushManager" in window)) return;

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }
  function csrf() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return match[1];
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  async function send(url, subscription) {
    await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() }, body: JSON.stringify(subscription) });
  }
  async function refresh() {
    const registration = await navigator.serviceWorker.register(button.dataset.worker, { scope: "/" }).catch(() => null);
    if (!registration) { state.textContent = "This browser cannot run the push worker."; return null; }
    const subscription = await registration.pushManager.getSubscription();
    button.hidden = false;
    button.textContent = subscription ? "Turn off push in this browser" : "Turn on push in this browser";
    state.textContent = subscription ? "Push is on in this browser." : "Push is off in this browser.";
    return { registration, subscription };
  }
  button.addEventListener("click", async () => {
    const current = await refresh();
    if (!current) return;
    if (current.subscription) {
      await send(button.dataset.unsubscribeUrl, current.subscription.toJSON());
      await current.subscription.unsubscribe();
    } else {
      const subscription = await current.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(button.dataset.key) }).catch((error) => { state.textContent = "Not allowed: " + error.message; return null; });
      if (subscription) await send(button.dataset.subscribeUrl, subscription.toJSON());
    }
    refresh();
  });
  refresh();
})();
