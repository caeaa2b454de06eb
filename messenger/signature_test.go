package messenger

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testSecret = "0123456789abcdef0123456789abcdef"

func sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"object":"page","entry":[]}`)
	good := sign(body, testSecret)
	sha1mac := hmac.New(sha1.New, []byte(testSecret))
	sha1mac.Write(body)
	tests := []struct {
		name   string
		body   []byte
		header string
		secret string
		ok     bool
	}{
		{"good", body, good, testSecret, true},
		{"empty body, signed", nil, sign(nil, testSecret), testSecret, true},
		{"missing", body, "", testSecret, false},
		{"sha1= instead of sha256=", body, "sha1=" + hex.EncodeToString(sha1mac.Sum(nil)), testSecret, false},
		{"sha1= prefix on the right digest", body, "sha1=" + strings.TrimPrefix(good, "sha256="), testSecret, false},
		{"signature of a different body", []byte(`{"object":"page","entry":[{}]}`), good, testSecret, false},
		{"other secret", body, sign(body, "another secret"), testSecret, false},
		{"uppercase hex", body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), testSecret, false},
		{"uppercase prefix", body, "SHA256=" + strings.TrimPrefix(good, "sha256="), testSecret, false},
		{"short hex", body, good[:len(good)-2], testSecret, false},
		{"long hex", body, good + "00", testSecret, false},
		{"non-hex digits", body, good[:len(good)-1] + "g", testSecret, false},
		{"spaces", body, " " + good, testSecret, false},
		{"prefix only", body, "sha256=", testSecret, false},
		{"empty secret", body, sign(body, ""), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := VerifySignature(tt.body, tt.header, tt.secret)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrBadSignature)
			assert.NotContains(t, err.Error(), testSecret, "the secret never appears in an error")
		})
	}
}
