// Package messengertest is a fake Graph API and a builder of signed webhook
// deliveries, for tests of PageDesk and of the backends built on it.
package messengertest
