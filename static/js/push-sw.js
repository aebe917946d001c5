/* Service worker for Web Push (notifications/push.py): shows each notice and opens its page on click. */
self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { data = { title: event.data && event.data.text() }; }
  const title = data.title || "Switchboard";
  event.waitUntil(self.registration.showNotification(title, { body: data.body || "", data: { url: data.url || "/notifications/" } }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/notifications/";
  event.waitUntil(clients.openWindow(url));
});
