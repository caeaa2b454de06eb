// Package channel connects Facebook Pages to a service as channels and keeps
// them: Facebook Login, permission checks, webhook subscription, settings
// (name, dispatch, auto-replies, custom info), pause, delete and diagnosis.
// It is what a host calls from its admin API; the enquiry service calls it
// when a Graph call fails or an echo arrives.
//
// # Connecting a Page (CONN)
//
//	url, _ := svc.LoginURL(serviceID, adminID)           // redirect the admin there
//	login, err := svc.Exchange(ctx, serviceID, adminID, r.URL.Query()) // at Config.RedirectURL
//	for p, err := range svc.Pages(ctx, login) { ... }    // let the admin pick
//	ch, err := svc.Connect(ctx, channel.ConnectRequest{Login: login, PageID: p.ID})
//
// LoginURL asks for the four Permissions and signs a state (HMAC, bound to
// the service and admin, expiring) that Exchange checks in constant time
// against CSRF. Exchange turns the code into a long-lived user token.
// Connect checks every permission (one error names every missing one), that
// the id is a Page the admin manages with a role that may message (never a
// profile), and that no other service holds the Page, the store enforcing it
// so that of two admins racing only one wins; then it subscribes the app to
// the Page's WebhookFields and stores the channel.
//
// # Losing the connection (CONN-7)
//
// A channel is disconnected (status, reason and time recorded, the Notifier
// told) when a Graph call through it fails for lost rights (the enquiry
// service reports failed sends with ReportGraphError), when Facebook calls
// DeauthorizeHandler, or when Diagnose finds the token or pages_messaging
// gone. A disconnected channel sends nothing (CanSend). Connecting the same
// Page again through Facebook Login restores the same channel with its
// settings and history.
//
// The channel record holds no Facebook user id, so a deauthorize callback
// that names only a user (they removed the app from their account) is
// resolved by asking Facebook which channel tokens are no longer valid,
// over the services Config.Services lists; one that names a Page
// disconnects its channel directly.
//
// # Statuses
//
//   - active: enquiries are opened, offered and answered;
//   - paused (Pause, Resume): inbound messages are still recorded, so
//     nothing is lost, but no offers are made and nothing is sent (no staff
//     replies, no auto-replies) until it is resumed;
//   - disconnected: as paused, until the Page is connected again;
//   - deleted (Delete): the app is unsubscribed from the Page, the token is
//     forgotten, the history kept, and the Page may be connected again.
//
// # Wiring with the enquiry service
//
// The enquiry service takes a *Service as its channel hook: it calls CanSend
// and PageClient before a send, ReportGraphError after a failed one, and
// ObserveEcho for every echo webhook, which is how SelfTest (CONN-8) sees
// its test message come back. IsSelfTest tells such an echo apart so it is
// not recorded as a reply from the Page Inbox.
//
// # Facebook's callbacks
//
// DeauthorizeHandler and DataDeletionHandler are the app's Deauthorize and
// Data Deletion callbacks; both verify the signed_request with the app
// secret. The data-deletion callback names the person by their app-scoped
// id; DataDeletionHandler asks Facebook's ID matching API for their
// Page-scoped ids and erases the visitor under each. DeletionStatusHandler
// serves the confirmation codes' status at Config.DeletionStatusURL; the
// codes are signed, so nothing is stored.
package channel
