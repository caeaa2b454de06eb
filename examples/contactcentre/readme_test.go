package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/store"
)

// TestREADMERulesTable keeps the README's rules table in step with what
// the console shows: for each rule, the error the SDK returns, explained in
// both languages, must appear in README.md word for word.
func TestREADMERulesTable(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	readme := string(raw)
	tooLongName := channel.ValidateName(strings.Repeat("名", 41))
	tooLongInfo := channel.ValidateCustomInfo(store.CustomInfo{On: true, Text: strings.Repeat("x", 10001)})
	require.Error(t, tooLongName)
	require.Error(t, tooLongInfo)
	tests := []struct {
		rule string
		err  error
		is   error
	}{
		{"RULE-1", &enquiry.TooLongError{Chars: 2001, Limit: 2000}, enquiry.ErrTooLong},
		{"RULE-3", &enquiry.TooLargeError{Name: "manual.pdf", Size: 26214400, Limit: 25000000}, enquiry.ErrTooLarge},
		{"RULE-4", &enquiry.LimitError{ServiceID: "svc", Limit: 200}, enquiry.ErrServingLimit},
		{"RULE-5", &enquiry.WindowError{}, enquiry.ErrOutsideWindow},
		{"ENQ-2", &enquiry.TakenError{EnquiryID: "e", StaffID: "wing"}, enquiry.ErrAlreadyTaken},
		{"CHAN-1", tooLongName, channel.ErrInvalid},
		{"CHAN-5", tooLongInfo, channel.ErrInvalid},
		{"CONN-3", &channel.PermissionError{Missing: []channel.MissingPermission{{Permission: channel.Permissions[0], Status: "declined"}}}, channel.ErrMissingPermissions},
		{"CONN-6", fmt.Errorf("connect: %w", channel.ErrPageAlreadyConnected), channel.ErrPageAlreadyConnected},
		{"CONN-7", &enquiry.ChannelError{ChannelID: "c", Status: store.ChannelDisconnected, Reason: "token revoked"}, enquiry.ErrChannelDisconnected},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			require.True(t, errors.Is(tt.err, tt.is), "%v is %v", tt.err, tt.is)
			row := tableRow(readme, tt.rule)
			require.NotEmpty(t, row, "README.md has no row for %s", tt.rule)
			for _, lang := range []string{langEnglish, langChinese} {
				e := explain(tt.err, lang)
				assert.NotEqual(t, "internal", e.Code)
				assert.Contains(t, row, "| "+e.Message+" |", "%s in %s", tt.rule, lang)
			}
		})
	}
}

// tableRow returns the line of the rules table that starts with rule.
func tableRow(readme, rule string) string {
	for line := range strings.Lines(readme) {
		if strings.HasPrefix(line, "| "+rule+" |") {
			return line
		}
	}
	return ""
}
