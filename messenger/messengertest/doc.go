// Package messengertest is a fake Graph API and a builder of signed webhook
// deliveries, for tests of PageDesk and of the backends built on it.
//
// # The fake Graph API
//
// NewServer(t) starts an httptest server that answers, under /v25.0, the
// calls package messenger makes: the Send API (text, quick replies,
// attachments by URL or id, sender actions), attachment upload, user
// profiles, webhook subscriptions (subscribed_apps), Facebook Login's
// /oauth/access_token (code and fb_exchange_token grants), /me/accounts
// (paginated with cursors), /me/permissions and /debug_token.
//
// Like Facebook it checks the access token (an Authorization: Bearer
// header or an access_token parameter) against the Pages and users it was
// given (AddPage, AddUser), and appsecret_proof against AppSecret; it
// refuses what Facebook refuses (a text over 2,000 characters, a
// MESSAGE_TAG without a tag, an unknown attachment id, ...) with Graph API
// error bodies. Server.Config and Server.Client give a messenger client
// pointed at it.
//
// Tests then assert on what was received (Requests, Sent, SenderActions,
// Attachment, Subscribed) and make Facebook misbehave: FailNext answers
// the next calls with a GraphError, Stall holds them until the client
// gives up, Drop closes the connection after reading the request,
// RevokePageToken and RevokeUserToken kill tokens (code 190), SetUsage
// adds rate-limit usage headers. OnSend runs a hook for each message sent,
// for example to deliver the matching echo webhook built with Delivery.
//
// Nothing waits on a clock: no test needs to sleep.
package messengertest
