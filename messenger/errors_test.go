package messenger

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var sentinels = map[string]error{
	"ErrOutsideWindow":        ErrOutsideWindow,
	"ErrRecipientUnavailable": ErrRecipientUnavailable,
	"ErrInvalidToken":         ErrInvalidToken,
	"ErrPermission":           ErrPermission,
	"ErrRateLimited":          ErrRateLimited,
	"ErrTransient":            ErrTransient,
	"ErrInvalidParameter":     ErrInvalidParameter,
}

// TestErrorMappingFromRealBodies maps the Graph API error bodies kept in
// testdata/errors to sentinels: every sentinel listed matches, every other
// does not.
func TestErrorMappingFromRealBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file             string
		status           int
		code, subcode    int
		match            []string
		retryable        bool
		userTitle, trace string
	}{
		{"outside_window_10_2018278.json", 400, 10, 2018278, []string{"ErrOutsideWindow"}, false, "", "AZx2Q6vH1yL"},
		// The older window subcode, and the two "this person" refusals, are
		// about one recipient: never ErrPermission, which disconnects a
		// channel (CONN-7).
		{"outside_window_10_2018065.json", 403, 10, 2018065, []string{"ErrOutsideWindow"}, false, "", "H/vnkB0t7Fk"},
		{"not_receiving_10_2018108.json", 400, 10, 2018108, []string{"ErrRecipientUnavailable"}, false, "", "Pq4Zx7Nc2Lm"},
		{"unavailable_200_1545041.json", 400, 200, 1545041, []string{"ErrRecipientUnavailable"}, false, "", "Rt8Yb3Kd6Wn"},
		{"unavailable_551.json", 400, 551, 1545041, []string{"ErrRecipientUnavailable"}, false, "", "A7rB1nQe3xY"},
		{"token_expired_190_463.json", 400, 190, 463, []string{"ErrInvalidToken"}, false, "", "AhT9kdQ2cZr"},
		{"token_password_190_460.json", 400, 190, 460, []string{"ErrInvalidToken"}, false, "", "B0oLk8cYt2s"},
		{"token_app_removed_190_458.json", 400, 190, 458, []string{"ErrInvalidToken"}, false, "", "CrW3nE0p9aQ"},
		{"token_unparseable_190.json", 400, 190, 0, []string{"ErrInvalidToken"}, false, "", "AVUzQ9m7XkP"},
		{"permission_200.json", 403, 200, 0, []string{"ErrPermission"}, false, "", "Dq1v9uRk0bN"},
		{"permission_230.json", 400, 230, 0, []string{"ErrPermission"}, false, "", "E5gS1oTq7mW"},
		{"invalid_parameter_100.json", 400, 100, 0, []string{"ErrInvalidParameter"}, false, "", "FfP2kLd9wQe"},
		{"no_matching_user_100_2018001.json", 400, 100, 2018001, []string{"ErrInvalidParameter"}, false, "", "G3bN8yHc1oZ"},
		{"user_message_100_2018109.json", 400, 100, 2018109, []string{"ErrInvalidParameter"}, false, "Attachment size exceeds allowable limit", "HkQ7t2Vr5sL"},
		{"rate_limit_613.json", 400, 613, 0, []string{"ErrRateLimited"}, true, "", "I8cWe3Pn6aD"},
		{"rate_limit_4.json", 403, 4, 0, []string{"ErrRateLimited", "ErrTransient"}, true, "", "J1xVb7Rm4tH"},
		{"rate_limit_17_2446079.json", 400, 17, 2446079, []string{"ErrRateLimited", "ErrTransient"}, true, "", "K9dZq2Lw8yF"},
		{"rate_limit_32.json", 400, 32, 0, []string{"ErrRateLimited"}, true, "", "L4nTg6Hs0cV"},
		{"rate_limit_80006.json", 400, 80006, 0, []string{"ErrRateLimited", "ErrTransient"}, true, "", "M2sYh5Kp9xB"},
		{"transient_2.json", 500, 2, 0, []string{"ErrTransient"}, true, "", "N6wCv1Jd3qR"},
		{"unknown_1.json", 500, 1, 0, []string{"ErrTransient"}, true, "", "O0eRf8Gb2nM"},
		{"bad_gateway_502.html", 502, 0, 0, []string{"ErrTransient"}, true, "", ""},
	}
	files, err := filepath.Glob("testdata/errors/*")
	require.NoError(t, err)
	require.Len(t, files, len(tests), "every body in testdata/errors has a row")
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(filepath.Join("testdata/errors", tt.file))
			require.NoError(t, err)
			e := parseError(tt.status, http.Header{}, body)
			assert.Equal(t, tt.status, e.HTTPStatus)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.subcode, e.Subcode)
			assert.Equal(t, tt.trace, e.TraceID)
			assert.Equal(t, tt.userTitle, e.UserTitle)
			assert.NotEmpty(t, e.Message)
			assert.Equal(t, tt.retryable, e.Retryable())
			wrapped := fmt.Errorf("sending: %w", e)
			for name, s := range sentinels {
				want := false
				for _, m := range tt.match {
					want = want || m == name
				}
				assert.Equal(t, want, errors.Is(wrapped, s), "errors.Is(%s)", name)
			}
		})
	}
}

func TestErrorHTTP429IsRateLimited(t *testing.T) {
	t.Parallel()
	h := http.Header{"Retry-After": {"7"}}
	e := parseError(http.StatusTooManyRequests, h, []byte(`{}`))
	assert.ErrorIs(t, e, ErrRateLimited)
	d, ok := RetryAfter(fmt.Errorf("wrapped: %w", e))
	assert.True(t, ok)
	assert.Equal(t, 7*time.Second, d)
	assert.Equal(t, "Too Many Requests", e.Message)
}

func TestErrorRetryAfterFromUsageHeader(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/errors/rate_limit_80006.json")
	require.NoError(t, err)
	h := http.Header{"X-Business-Use-Case-Usage": {`{"1001":[{"type":"messenger","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":3}]}`}}
	e := parseError(400, h, body)
	d, ok := RetryAfter(e)
	require.True(t, ok)
	assert.Equal(t, 3*time.Minute, d)

	_, ok = RetryAfter(parseError(400, h, []byte(`{"error":{"code":100}}`)))
	assert.False(t, ok, "only a rate-limit error takes the usage delay")
	_, ok = RetryAfter(errors.New("plain"))
	assert.False(t, ok)
}

func TestErrorRedactsSecrets(t *testing.T) {
	t.Parallel()
	const token = "EAAGsecretTOKENvalue"
	body := `{"error":{"message":"bad token EAAGsecretTOKENvalue here","error_user_msg":"EAAGsecretTOKENvalue","type":"OAuthException","code":190}}`
	e := parseError(400, nil, []byte(body), token, "")
	assert.NotContains(t, e.Error(), token)
	assert.NotContains(t, e.UserMessage, token)
	assert.Contains(t, e.Message, "[redacted]")
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	e := &Error{HTTPStatus: 400, Code: 10, Subcode: 2018278, Type: "OAuthException", Message: "outside", TraceID: "X1"}
	assert.Equal(t, "messenger: Graph API error code 10/2018278 (OAuthException), HTTP 400: outside (fbtrace_id X1)", e.Error())
}

func TestErrorNonJSONBodyIsBounded(t *testing.T) {
	t.Parallel()
	e := parseError(503, nil, []byte(strings.Repeat("<p>unavailable</p>\n", 100)))
	assert.LessOrEqual(t, len(e.Message), maxErrorText+len("…"))
	assert.ErrorIs(t, e, ErrTransient)
}

func TestJSONIntAcceptsStrings(t *testing.T) {
	t.Parallel()
	e := parseError(400, nil, []byte(`{"error":{"code":"190","error_subcode":"460"}}`))
	assert.Equal(t, 190, e.Code)
	assert.Equal(t, 460, e.Subcode)
}

func FuzzParseError(f *testing.F) {
	files, _ := filepath.Glob("testdata/errors/*")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err == nil {
			f.Add(400, string(b), "")
		}
	}
	f.Add(429, `{"error":{"code":"4"}}`, "12")
	f.Add(500, "\xff\xfe", "-1")
	f.Fuzz(func(t *testing.T, status int, body, retryAfter string) {
		h := http.Header{"Retry-After": {retryAfter}}
		e := parseError(status, h, []byte(body), "tokenTOKENtoken")
		if e.HTTPStatus != status {
			t.Fatalf("status %d, want %d", e.HTTPStatus, status)
		}
		if strings.Contains(e.Error(), "tokenTOKENtoken") {
			t.Fatalf("token in %q", e.Error())
		}
		if e.RetryAfter < 0 || e.RetryAfter > 24*time.Hour {
			t.Fatalf("RetryAfter %v", e.RetryAfter)
		}
		if e.Retryable() != (errors.Is(e, ErrRateLimited) || errors.Is(e, ErrTransient)) {
			t.Fatal("Retryable disagrees with the sentinels")
		}
	})
}
