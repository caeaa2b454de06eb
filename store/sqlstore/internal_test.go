package sqlstore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

func TestMigrationsWellFormed(t *testing.T) {
	ms, err := migrations()
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	for i, m := range ms {
		assert.Equal(t, i+1, m.version, "versions run 1, 2, ... without gaps")
		assert.NotEmpty(t, m.name)
		assert.NotContains(t, m.sql, "{s}", "migrations run with search_path set; they name no schema")
	}
	assert.Equal(t, len(ms), SchemaVersion())
}

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []cursor{
		{List: listChannels, Time: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC).UnixMicro(), ID: "ch-1"},
		{List: listMessages, Seq: 1 << 40},
		{List: listVisitorEnquiries, Time: -5, ID: "頻道"},
	} {
		got, ok, err := decodeCursor(c.encode(), c.List)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, c, got)
		_, _, err = decodeCursor(c.encode(), listEnquiries)
		assert.ErrorIs(t, err, store.ErrInvalid, "a cursor of another list")
	}
	_, ok, err := decodeCursor("", listMessages)
	assert.NoError(t, err)
	assert.False(t, ok, "no cursor: the first page")
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(cursor{List: listChannels, Time: 1, ID: "x"}.encode(), listChannels)
	f.Add(cursor{List: listMessages, Seq: 3}.encode(), listMessages)
	f.Add("!!!", listEnquiries)
	f.Add("e30", listEnquiries) // {}
	f.Fuzz(func(t *testing.T, after, list string) {
		c, ok, err := decodeCursor(after, list)
		if err != nil {
			assert.ErrorIs(t, err, store.ErrInvalid)
			assert.False(t, ok)
			return
		}
		if after == "" {
			assert.False(t, ok)
			return
		}
		assert.True(t, ok)
		assert.Equal(t, list, c.List, "a cursor is accepted only by its own list")
		again, ok, err := decodeCursor(c.encode(), list)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, c, again)
	})
}

func TestPageLimit(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{0, defaultLimit}, {1, 1}, {100, 100}, {maxLimit, maxLimit}, {maxLimit + 1, maxLimit}} {
		got, err := pageLimit(store.ListOptions{Limit: tc.in})
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "limit %d", tc.in)
	}
	_, err := pageLimit(store.ListOptions{Limit: -1})
	assert.ErrorIs(t, err, store.ErrInvalid)
}
