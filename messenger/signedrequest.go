package messenger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrBadSignedRequest is matched by every error of [ParseSignedRequest]: the
// signed_request is malformed, its signature is wrong, or its algorithm is
// not HMAC-SHA256. Nothing in it is to be believed.
var ErrBadSignedRequest = errors.New("messenger: bad signed_request")

// MaxSignedRequestBytes caps the signed_request ParseSignedRequest accepts;
// Facebook's are a few hundred bytes.
const MaxSignedRequestBytes = 16 << 10

// SignedRequest is the verified payload of a Facebook signed_request, as
// posted to the app's Deauthorize and Data Deletion callbacks.
type SignedRequest struct {
	Algorithm string    // always "HMAC-SHA256" once verified
	IssuedAt  time.Time // issued_at; zero when absent
	Expires   time.Time // expires; zero when absent or 0 (never)
	UserID    string    // user_id: the app-scoped id of the person
	ProfileID string    // profile_id: the Page, for Page-level callbacks
	// Payload is the whole decoded JSON payload, for the fields not
	// modelled above (e.g. oauth_token, which is a credential).
	Payload []byte
}

// ParseSignedRequest verifies and decodes a signed_request: two base64url
// parts, "signature.payload", where signature is HMAC-SHA256 of the payload
// part (as sent) keyed with the app secret. The signature is compared in
// constant time before the payload is decoded, and the payload's algorithm
// must be HMAC-SHA256. It does not judge issued_at: a caller that wants a
// freshness window compares it with its own clock.
func ParseSignedRequest(signedRequest, appSecret string) (*SignedRequest, error) {
	if appSecret == "" {
		return nil, fmt.Errorf("%w: the app secret is empty", ErrBadSignedRequest)
	}
	if len(signedRequest) > MaxSignedRequestBytes {
		return nil, fmt.Errorf("%w: it is %d bytes; the limit is %d", ErrBadSignedRequest, len(signedRequest), MaxSignedRequestBytes)
	}
	encSig, encPayload, ok := strings.Cut(signedRequest, ".")
	if !ok || encSig == "" || encPayload == "" || strings.Contains(encPayload, ".") {
		return nil, fmt.Errorf("%w: want two base64url parts joined by a dot", ErrBadSignedRequest)
	}
	sig, err := decodeBase64URL(encSig)
	if err != nil || len(sig) != sha256.Size {
		return nil, fmt.Errorf("%w: the signature is not a base64url HMAC-SHA256", ErrBadSignedRequest)
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(encPayload))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return nil, fmt.Errorf("%w: the signature does not match", ErrBadSignedRequest)
	}
	payload, err := decodeBase64URL(encPayload)
	if err != nil {
		return nil, fmt.Errorf("%w: the payload is not base64url", ErrBadSignedRequest)
	}
	sr, err := decodeSignedPayload(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignedRequest, err)
	}
	if !strings.EqualFold(sr.Algorithm, "HMAC-SHA256") {
		return nil, fmt.Errorf("%w: the algorithm is %q; want HMAC-SHA256", ErrBadSignedRequest, truncate(sr.Algorithm, 32))
	}
	sr.Algorithm = "HMAC-SHA256"
	return sr, nil
}

// decodeBase64URL accepts base64url with or without padding, as Facebook's
// SDKs differ.
func decodeBase64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func decodeSignedPayload(payload []byte) (*SignedRequest, error) {
	p := parserPool.Get().(*parser)
	defer func() {
		p.release()
		parserPool.Put(p)
	}()
	p.reset(payload)
	if p.dec.PeekKind() != '{' {
		return nil, errors.New("the payload is not a JSON object")
	}
	sr := &SignedRequest{Payload: payload}
	p.token()
	for p.more() {
		switch p.token().String() {
		case "algorithm":
			sr.Algorithm = p.str()
		case "issued_at":
			sr.IssuedAt = p.seconds()
		case "expires":
			sr.Expires = p.seconds()
		case "user_id":
			sr.UserID = p.str()
		case "profile_id":
			sr.ProfileID = p.str()
		default:
			p.skip()
		}
	}
	p.end()
	if p.err != nil {
		return nil, fmt.Errorf("the payload is not valid JSON: %w", p.err)
	}
	return sr, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
