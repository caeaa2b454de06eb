package memstore

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/store"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		at   time.Time
		id   string
	}{
		{"zero time", time.Time{}, "ch-1"},
		{"nanoseconds", time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC), "enq.with.dots"},
		{"before 1970", time.Date(1901, 1, 1, 0, 0, 0, 1, time.UTC), ""},
		{"other zone", time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("TPE", 8*3600)), "頻道"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			at, id, err := decodeTimeCursor(encodeTimeCursor(tc.at, tc.id))
			require.NoError(t, err)
			assert.True(t, tc.at.Equal(at), "time %v != %v", at, tc.at)
			assert.Equal(t, tc.id, id)
		})
	}
	for _, seq := range []uint64{0, 1, 1 << 63} {
		got, err := decodeSeqCursor(encodeSeqCursor(seq))
		require.NoError(t, err)
		assert.Equal(t, seq, got)
	}
}

func TestCursorMalformed(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"", "!", "dA", encodeSeqCursor(3), "dDEyMw", "dDEuMg", "dDEuLTEuaWQ", "dDEuMTAwMDAwMDAwMC5pZA", "dHguMS5pZA"} {
		_, _, err := decodeTimeCursor(c)
		assert.ErrorIs(t, err, store.ErrInvalid, "time cursor %q", c)
	}
	for _, c := range []string{"", "!", "cw", "cy0x", encodeTimeCursor(time.Time{}, "x"), "czE4NDQ2NzQ0MDczNzA5NTUxNjE2"} {
		_, err := decodeSeqCursor(c)
		assert.ErrorIs(t, err, store.ErrInvalid, "seq cursor %q", c)
	}
}

// FuzzCursor: decoding never panics, a decoded cursor encodes back to one
// that decodes to the same position, and every failure is ErrInvalid.
func FuzzCursor(f *testing.F) {
	f.Add(encodeTimeCursor(time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC), "enq-1"))
	f.Add(encodeSeqCursor(42))
	f.Add("")
	f.Add("dDEuMi4z")
	f.Fuzz(func(t *testing.T, s string) {
		if at, id, err := decodeTimeCursor(s); err == nil {
			at2, id2, err := decodeTimeCursor(encodeTimeCursor(at, id))
			if err != nil || !at.Equal(at2) || id != id2 {
				t.Fatalf("time cursor %q: (%v, %q) re-decoded as (%v, %q, %v)", s, at, id, at2, id2, err)
			}
		} else if !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("time cursor %q: %v is not ErrInvalid", s, err)
		}
		if seq, err := decodeSeqCursor(s); err == nil {
			if seq2, err := decodeSeqCursor(encodeSeqCursor(seq)); err != nil || seq != seq2 {
				t.Fatalf("seq cursor %q: %d re-decoded as %d, %v", s, seq, seq2, err)
			}
		} else if !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("seq cursor %q: %v is not ErrInvalid", s, err)
		}
	})
}
