// Package channel connects Facebook Pages to a service as channels and keeps
// their settings: Facebook Login, permission checks, webhook subscription,
// name, dispatch, auto-replies, custom info, pause, delete and diagnosis.
package channel
