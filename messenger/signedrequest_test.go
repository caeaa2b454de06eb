package messenger_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

const srSecret = "signed-request-secret"

func TestParseSignedRequest(t *testing.T) {
	t.Parallel()
	payload := `{"algorithm":"HMAC-SHA256","expires":0,"issued_at":1718000000,"user_id":"6270539092939364","profile_id":"106517805599876","oauth_token":"EAAB..."}`
	good := messengertest.SignedRequestPayload(srSecret, []byte(payload))

	sr, err := messenger.ParseSignedRequest(good, srSecret)
	require.NoError(t, err)
	assert.Equal(t, &messenger.SignedRequest{
		Algorithm: "HMAC-SHA256",
		IssuedAt:  time.Unix(1718000000, 0).UTC(),
		UserID:    "6270539092939364",
		ProfileID: "106517805599876",
		Payload:   []byte(payload),
	}, sr)

	sig, enc, _ := strings.Cut(good, ".")
	sr, err = messenger.ParseSignedRequest(sig+"=."+enc, srSecret)
	require.NoError(t, err, "a padded signature is accepted")
	assert.Equal(t, "6270539092939364", sr.UserID)
}

func TestParseSignedRequestRefusals(t *testing.T) {
	t.Parallel()
	sign := func(payload string) string { return messengertest.SignedRequestPayload(srSecret, []byte(payload)) }
	good := sign(`{"algorithm":"HMAC-SHA256","issued_at":1718000000,"user_id":"1"}`)
	sig, enc, _ := strings.Cut(good, ".")
	otherSig, _, _ := strings.Cut(messengertest.SignedRequestPayload("other", []byte(`{"algorithm":"HMAC-SHA256","user_id":"1"}`)), ".")
	hmacOf := func(s string) string {
		m := hmac.New(sha256.New, []byte(srSecret))
		m.Write([]byte(s))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	tests := []struct {
		name   string
		sr     string
		secret string
	}{
		{"empty", "", srSecret},
		{"no dot", sig + enc, srSecret},
		{"three parts", good + ".x", srSecret},
		{"empty signature", "." + enc, srSecret},
		{"empty payload", sig + ".", srSecret},
		{"signature of another payload", otherSig + "." + enc, srSecret},
		{"wrong secret", good, "not-the-secret"},
		{"empty secret", messengertest.SignedRequestPayload("", []byte(`{"algorithm":"HMAC-SHA256"}`)), ""},
		{"signature not base64url", "!!!." + enc, srSecret},
		{"standard base64 signature", strings.NewReplacer("-", "+", "_", "/").Replace(sig) + "x." + enc, srSecret},
		{"short signature", sig[:20] + "." + enc, srSecret},
		{"payload not base64url, signed", hmacOf("%%%") + ".%%%", srSecret},
		{"payload not JSON", sign(`not json`), srSecret},
		{"payload truncated", sign(`{"algorithm":"HMAC-SHA256"`), srSecret},
		{"payload with trailing data", sign(`{"algorithm":"HMAC-SHA256"} {}`), srSecret},
		{"payload not an object", sign(`["HMAC-SHA256"]`), srSecret},
		{"no algorithm", sign(`{"user_id":"1"}`), srSecret},
		{"other algorithm", sign(`{"algorithm":"HMAC-SHA1","user_id":"1"}`), srSecret},
		{"algorithm none", sign(`{"algorithm":"none","user_id":"1"}`), srSecret},
		{"too long", sign(`{"algorithm":"HMAC-SHA256","x":"` + strings.Repeat("a", messenger.MaxSignedRequestBytes) + `"}`), srSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sr, err := messenger.ParseSignedRequest(tt.sr, tt.secret)
			require.ErrorIs(t, err, messenger.ErrBadSignedRequest)
			assert.Nil(t, sr)
			assert.NotContains(t, err.Error(), srSecret)
		})
	}
}

func TestParseSignedRequestLenientValues(t *testing.T) {
	t.Parallel()
	sr, err := messenger.ParseSignedRequest(messengertest.SignedRequestPayload(srSecret,
		[]byte(`{"algorithm":"hmac-sha256","issued_at":1e400,"user_id":6270539092939364,"user_id":"last"}`)), srSecret)
	require.NoError(t, err)
	assert.Equal(t, "HMAC-SHA256", sr.Algorithm)
	assert.True(t, sr.IssuedAt.IsZero(), "an out-of-range issued_at is left zero")
	assert.Equal(t, "last", sr.UserID, "a duplicate name keeps its last value")
}
