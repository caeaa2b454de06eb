// Package enquiry turns visitors' private messages to a connected Page into
// enquiries that staff take and answer 1:1, enforcing Messenger's rules.
//
// A [Service] sits between the webhook and the host's staff API:
//
//	svc, _ := enquiry.New(enquiry.Config{Store: st, Channels: channels, Graph: graph, Staff: directory, Notifier: hub})
//	wh, _ := messenger.NewWebhook(messenger.WebhookConfig{AppSecret: secret, VerifyToken: verify, Handler: svc})
//	http.Handle("/webhook", wh)
//
// # Inbound
//
// [Service.HandleEvents] records every event through the store, by its
// idempotency key, before the webhook answers 200: a store failure makes
// the webhook answer non-2xx so that Facebook delivers again, and nothing
// received is lost or recorded twice. A visitor's message opens an
// enquiry or joins their open one (ENQ-1); the first message ever to the
// channel gets the welcome auto-reply; a new enquiry is offered to staff by
// the channel's dispatch settings (CHAN-2) through the host's
// [StaffDirectory] (to all eligible staff at once, round-robin fair across
// processes, the least busy, or named staff), or, when nobody is available,
// waits in the queue with the away auto-reply sent once. Echoes confirm the
// service's own sends; echoes of other apps' messages (a Page admin in
// Facebook's Page inbox) are kept as Page-admin messages; deliveries and
// reads move message states forward; standby items are recorded and
// trigger nothing. Paused and disconnected channels record everything and
// send nothing.
//
// Side effects survive redeliveries and crashes: each is decided from what
// the store holds (a queued enquiry is dispatched again, the welcome is
// due when the redelivered item was the visitor's first) and each
// auto-reply is recorded under an id derived from its trigger before it is
// sent, so a store refusing the duplicate id makes it go out at most once.
//
// # Outbound
//
// Staff [Service.Take] an enquiry (a compare-and-set: the loser is told who
// won; RULE-4 caps how many a service serves at once, counted by the store
// across processes), [Service.Transfer] it, [Service.Reply] with text or
// [Service.ReplyFile] with a file, and [Service.Close] it (the close
// auto-reply names the staff member in the channel's display-name format;
// Close is idempotent, so a failed Close is tried again, and the close
// auto-reply still goes out at most once).
// Every rule is checked before any Graph call, each with its own error:
// RULE-1 [TooLongError], RULE-3 [TooLargeError], RULE-4 [LimitError],
// RULE-5 [WindowError] (whose Message gives the specification's text in
// Traditional Chinese or English). Every error a staff member can meet has
// such a Message, and [Message] finds the one in any error, so a host shows
// staff the SDK's texts in either language. A channel may opt in to the HUMAN_AGENT
// tag, giving human staff 7 days; auto-replies never use it. Every
// outbound message is recorded as pending before it is sent, then as sent,
// failed or uncertain; an uncertain one is never sent again. A send that
// shows the connection lost its rights on the Page disconnects the channel
// (CONN-7) and tells the staff member why. There is no recall (RULE-2).
//
// # For the host
//
// A [Notifier] hears everything a staff UI shows live. Its notices of
// inbound items are at least once: an item is announced on every delivery
// of it, Facebook's redeliveries included, so none is missed when the store
// recorded it but its answer was lost; hosts dedupe by the message id the
// [Notice] carries. [Service.Enquiries],
// [Service.View] (with the channel's custom info, CHAN-5) and
// [Service.History] answer queries.
package enquiry
