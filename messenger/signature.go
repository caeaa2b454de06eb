package messenger

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
)

// SignatureHeader is the header in which Facebook signs each webhook
// delivery: "sha256=" and the lowercase hex HMAC-SHA256 of the raw body,
// keyed with the app secret.
const SignatureHeader = "X-Hub-Signature-256"

// ErrBadSignature means a webhook delivery's signature is missing, malformed
// or wrong: the body must not be trusted. The webhook answers 403.
var ErrBadSignature = errors.New("messenger: bad webhook signature")

const signaturePrefix = "sha256="

// VerifySignature checks header, the value of [SignatureHeader], against
// body and the app secret. It returns nil only if header is exactly
// "sha256=" followed by 64 lowercase hex digits equal to HMAC-SHA256(body)
// (compared in constant time); every failure matches [ErrBadSignature].
// Verify before parsing: nothing in an unverified body is to be believed.
func VerifySignature(body []byte, header, appSecret string) error {
	if appSecret == "" {
		return fmt.Errorf("%w: the app secret is empty", ErrBadSignature)
	}
	want, err := parseSignature(header)
	if err != nil {
		return err
	}
	return newKeyedMAC([]byte(appSecret)).check(body, &want)
}

// parseSignature decodes "sha256=<64 lowercase hex>" strictly: Facebook
// sends lowercase, and one accepted spelling leaves no room for confusion.
func parseSignature(header string) ([sha256.Size]byte, error) {
	var sig [sha256.Size]byte
	if header == "" {
		return sig, fmt.Errorf("%w: the %s header is missing", ErrBadSignature, SignatureHeader)
	}
	if len(header) < len(signaturePrefix) || header[:len(signaturePrefix)] != signaturePrefix {
		return sig, fmt.Errorf("%w: the %s header does not start with %q", ErrBadSignature, SignatureHeader, signaturePrefix)
	}
	hexSig := header[len(signaturePrefix):]
	if len(hexSig) != 2*sha256.Size {
		return sig, fmt.Errorf("%w: the %s header has %d hex digits; want %d", ErrBadSignature, SignatureHeader, len(hexSig), 2*sha256.Size)
	}
	for i := range sig {
		hi, ok1 := lowerHex(hexSig[2*i])
		lo, ok2 := lowerHex(hexSig[2*i+1])
		if !ok1 || !ok2 {
			return sig, fmt.Errorf("%w: the %s header is not lowercase hex", ErrBadSignature, SignatureHeader)
		}
		sig[i] = hi<<4 | lo
	}
	return sig, nil
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// keyedMAC is an HMAC-SHA256 keyed with the app secret and room for its
// sum, pooled by the webhook so that a delivery allocates neither.
type keyedMAC struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

func newKeyedMAC(secret []byte) *keyedMAC {
	return &keyedMAC{mac: hmac.New(sha256.New, secret)}
}

// check compares HMAC(body) with want in constant time.
func (k *keyedMAC) check(body []byte, want *[sha256.Size]byte) error {
	k.mac.Reset()
	k.mac.Write(body)
	if !hmac.Equal(k.mac.Sum(k.sum[:0]), want[:]) {
		return fmt.Errorf("%w: the signature does not match the body", ErrBadSignature)
	}
	return nil
}
