package channel_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/store"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value, want string
	}{
		{"40 CJK characters pass", strings.Repeat("客", 40), ""},
		{"41 CJK characters fail", strings.Repeat("客", 41), "channel name is 41 characters; the limit is 40"},
		{"40 ASCII pass", strings.Repeat("a", 40), ""},
		{"41 ASCII fail", strings.Repeat("a", 41), "channel name is 41 characters; the limit is 40"},
		{"surrounding spaces do not count", "  " + strings.Repeat("a", 40) + "  ", ""},
		{"required", "", "channel name is required (0 characters; the limit is 40)"},
		{"only spaces", "   ", "channel name is required (0 characters; the limit is 40)"},
		{"one line", "Acme\nSupport", "channel name has a line break or another control character (12 characters; the limit is 40)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := channel.ValidateName(tt.value)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, channel.ErrInvalid)
			assert.EqualError(t, err, tt.want)
			var ve *channel.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "channel name", ve.Field)
			assert.Equal(t, 40, ve.Limit)
		})
	}
}

func TestValidateCustomInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		info store.CustomInfo
		want string
	}{
		{"10,000 characters pass", store.CustomInfo{On: true, Text: strings.Repeat("資", 10000)}, ""},
		{"10,001 characters fail", store.CustomInfo{On: true, Text: strings.Repeat("資", 10001)}, "custom info is 10001 characters; the limit is 10000"},
		{"checked while off", store.CustomInfo{On: false, Text: strings.Repeat("a", 10001)}, "custom info is 10001 characters; the limit is 10000"},
		{"off and empty", store.CustomInfo{}, ""},
		{"on needs text", store.CustomInfo{On: true, Text: " "}, "custom info is on but has no text (1 character; the limit is 10000)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := channel.ValidateCustomInfo(tt.info)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, channel.ErrInvalid)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestValidateDispatch(t *testing.T) {
	t.Parallel()
	many := make([]string, channel.MaxStaffIDs+1)
	for i := range many {
		many[i] = fmt.Sprint("s", i)
	}
	tests := []struct {
		name string
		d    store.Dispatch
		want string
	}{
		{"zero: everyone at once", store.Dispatch{}, ""},
		{"group round robin", store.Dispatch{Mode: store.DispatchRoundRobin, Group: "sales"}, ""},
		{"named staff least busy", store.Dispatch{Mode: store.DispatchLeastBusy, StaffIDs: []string{"a", "b"}}, ""},
		{"unknown mode", store.Dispatch{Mode: "random"}, `dispatch mode "random" is not one of "" (offer to all at once), "round_robin" and "least_busy"`},
		{"both targets", store.Dispatch{Group: "sales", StaffIDs: []string{"a"}}, "dispatch target names both a staff group and named staff; choose one"},
		{"long group", store.Dispatch{Group: strings.Repeat("g", 101)}, "dispatch group is 101 characters; the limit is 100"},
		{"blank group", store.Dispatch{Group: "  "}, "dispatch group is only spaces"},
		{"empty staff id", store.Dispatch{StaffIDs: []string{"a", ""}}, "dispatch staff id 2 is empty"},
		{"long staff id", store.Dispatch{StaffIDs: []string{strings.Repeat("x", 201)}}, "dispatch staff id 1 is 201 characters; the limit is 200"},
		{"repeated staff id", store.Dispatch{StaffIDs: []string{"a", "b", "a"}}, `dispatch staff id 3 repeats "a"`},
		{"too many staff", store.Dispatch{StaffIDs: many}, "dispatch staff names 1001 staff; the limit is 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := channel.ValidateDispatch(tt.d)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, channel.ErrInvalid)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestSettingsValidateReportsEverything(t *testing.T) {
	t.Parallel()
	set := channel.Settings{
		Name:       strings.Repeat("a", 41),
		Dispatch:   store.Dispatch{Mode: "random"},
		CustomInfo: store.CustomInfo{Text: strings.Repeat("a", 10001)},
		AutoReply:  autoreply.Settings{Welcome: autoreply.Message{On: true, Text: strings.Repeat("a", 2001)}},
	}
	err := set.Validate()
	require.Error(t, err)
	assert.ErrorIs(t, err, channel.ErrInvalid)
	assert.ErrorIs(t, err, autoreply.ErrTooLong, "auto-reply problems come through")
	for _, want := range []string{
		"channel name is 41 characters; the limit is 40",
		`dispatch mode "random"`,
		"custom info is 10001 characters; the limit is 10000",
		"welcome text is 2001 characters; the limit is 2000",
	} {
		assert.Contains(t, err.Error(), want)
	}
	var ve *channel.ValidationError
	require.True(t, errors.As(err, &ve))
	assert.Equal(t, "channel name", ve.Field)
	assert.Equal(t, 41, ve.Length)

	// An auto-reply problem alone is invalid too.
	err = channel.Settings{Name: "Acme", AutoReply: autoreply.Settings{NameFormat: "nick"}}.Validate()
	assert.ErrorIs(t, err, channel.ErrInvalid)
	assert.ErrorIs(t, err, autoreply.ErrUnsupported)
	var ae *autoreply.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "display-name format", ae.Field)
}
