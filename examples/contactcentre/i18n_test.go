package main

import (
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

// TestConsoleStringsExist checks that every label the console asks for
// exists in both languages, so no staff member sees a raw key.
func TestConsoleStringsExist(t *testing.T) {
	t.Parallel()
	assert.ElementsMatch(t, slices.Collect(maps.Keys(uiStrings[langEnglish])), slices.Collect(maps.Keys(uiStrings[langChinese])),
		"both languages have the same labels")
	used := map[string]bool{}
	re := regexp.MustCompile(`data-t="([A-Za-z_]+)"|\bt\("([A-Za-z_]+)"`)
	for _, name := range []string{"ui/index.html", "ui/app.js"} {
		src, err := fs.ReadFile(uiFiles, name)
		require.NoError(t, err)
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			if key := m[1] + m[2]; key[len(key)-1] != '_' { // "status_" + s: below
				used[key] = true
			}
		}
	}
	// Labels app.js builds from the records' values.
	for _, s := range []store.EnquiryStatus{store.EnquiryQueued, store.EnquiryOffered, store.EnquiryTaken, store.EnquiryClosed} {
		used["status_"+string(s)] = true
	}
	for _, s := range []store.ChannelStatus{store.ChannelActive, store.ChannelPaused, store.ChannelDisconnected, store.ChannelDeleted} {
		used["ch_"+string(s)] = true
	}
	for _, a := range []store.Author{store.AuthorVisitor, store.AuthorStaff, store.AuthorAutoReply, store.AuthorPageAdmin} {
		used["author_"+string(a)] = true
	}
	for _, s := range []store.DeliveryState{store.StatePending, store.StateSent, store.StateDelivered, store.StateRead,
		store.StateUncertain, store.StateFailed, store.StateReceived} {
		used["state_"+string(s)] = true
	}
	require.Greater(t, len(used), 40)
	for key := range used {
		for _, lang := range []string{langEnglish, langChinese} {
			assert.NotEmpty(t, uiStrings[lang][key], "label %q in %s", key, lang)
		}
	}
}
