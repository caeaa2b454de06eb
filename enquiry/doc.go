// Package enquiry turns visitors' private messages to a connected Page into
// enquiries that staff take and answer 1:1, enforcing Messenger's rules.
package enquiry
