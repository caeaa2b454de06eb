// Package messenger talks to Facebook Messenger: a Graph API client for the
// Send API and the Page calls around it, and webhook middleware that verifies
// each delivery and turns it into typed events.
//
// It knows nothing of enquiries or storage and can be used alone as a
// Messenger client.
//
// There is no recall (RULE-2): a message Facebook accepted cannot be taken
// back, and no API here pretends otherwise.
package messenger
