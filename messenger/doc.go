// Package messenger talks to Facebook Messenger: a Graph API client for the
// Send API and the Page calls around it, and webhook middleware that verifies
// each delivery and turns it into typed events.
//
// It knows nothing of enquiries or storage and can be used alone as a
// Messenger client.
//
// # Sending
//
// One Client serves every Page; Client.Page binds a Page id to the
// oauth2.TokenSource that supplies its token, so the token stays a value the
// host keeps, never a package variable:
//
//	client, err := messenger.New(messenger.Config{AppSecret: secret})
//	page := client.Page(pageID, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: pageToken}))
//	res, err := page.Send(ctx, messenger.OutgoingMessage{Recipient: psid, Text: "Hello"})
//
// Messenger's limits are checked before any network call: a text of more than
// MaxTextChars characters (characters, not bytes: RULE-1) fails with
// ErrTooLong, a file of more than MaxFileBytes (25 MB, read as 10^6 bytes a
// MB: RULE-3) with ErrTooLarge. Every refusal from Facebook is an *Error,
// matchable with errors.Is against ErrOutsideWindow, ErrInvalidToken,
// ErrPermission, ErrRateLimited, ErrTransient and the other sentinels.
//
// Each Page has its own rate limiter, slowed further as Facebook's usage
// headers near 100%. Reads are retried with backoff; a send is retried only
// when it certainly never reached Facebook. A send that may have reached it
// fails with ErrMaybeDelivered and is never repeated, so that no visitor gets
// a message twice. Tokens and the app secret never appear in an error or a
// log line; appsecret_proof goes with every call when the secret is set.
//
// There is no recall (RULE-2): a message Facebook accepted cannot be taken
// back, and no API here pretends otherwise.
//
// # Receiving
//
// NewWebhook returns the http.Handler Facebook calls: the verify-token
// handshake on GET; on POST, the raw body read once under a size cap, its
// X-Hub-Signature-256 checked with hmac.Equal before any parsing, and the
// events handed to the host's Handler. It answers 200 only once the Handler
// returned nil, so a failure makes Facebook deliver again and nothing is
// lost; every Event has a Key by which a store records a redelivered event
// once. Webhook.Middleware (or RequireSignature, with the defaults) and
// EventsFromRequest offer the same pieces to hosts with a router of their own, and VerifySignature, ParseWebhook and
// ParseSignedRequest work without HTTP at all (queues, serverless).
//
// Webhook bodies are decoded with github.com/go-json-experiment/json's
// tokenizer (encoding/json/v2), about twice as fast as encoding/json for a
// delivery; see ParseWebhook for how leniently a signed body is read.
//
// Package messengertest is a fake Graph API and a builder of signed
// deliveries, for tests.
package messenger
