package messenger

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addFixtures(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "webhook", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(``))
	f.Add([]byte(`{"object":"page","entry":[{"id":1,"messaging":[1,"x",null,{"message":{"attachments":[{"payload":7}]}}]}]}`))
	f.Add([]byte(`{"object":"page","entry":[{"standby":[{"sender":{"id":1e999},"timestamp":-1e999,"app_roles":{"1":["a"]}}]}]}`))
}

// FuzzParseWebhook: ParseWebhook never panics; what it accepts is sound
// (every Raw is bytes of the body, every event has a kind and a key, a
// second parse agrees); and the Webhook, given the same body, answers 200 or
// 400 when it is signed and 403 when it is not, calling the handler only
// for a signed body.
func FuzzParseWebhook(f *testing.F) {
	addFixtures(f)
	var got []Event
	wh, err := NewWebhook(WebhookConfig{AppSecret: testSecret, VerifyToken: "v",
		Handler: HandlerFunc(func(_ context.Context, events []Event) error { got = events; return nil })})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := ParseWebhook(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedBody) && !errors.Is(err, ErrUnsupportedObject) {
				t.Fatalf("unexpected error type: %v", err)
			}
			if events != nil {
				t.Fatalf("events with an error")
			}
		}
		again, _ := ParseWebhook(body)
		if len(again) != len(events) {
			t.Fatalf("two parses disagree: %d and %d events", len(events), len(again))
		}
		for i, e := range events {
			if e.Kind == "" {
				t.Fatalf("event %d has no kind", i)
			}
			if len(e.Raw) == 0 || !bytes.Contains(body, e.Raw) {
				t.Fatalf("event %d Raw %q is not part of the body", i, e.Raw)
			}
			if e.Key() != again[i].Key() {
				t.Fatalf("event %d key is unstable", i)
			}
		}

		got = nil
		w := serve(wh, post(body, sign(body, testSecret)))
		switch {
		case w.Code == http.StatusOK && err == nil:
			if len(got) != len(events) {
				t.Fatalf("handler got %d events; ParseWebhook found %d", len(got), len(events))
			}
		case w.Code == http.StatusOK && errors.Is(err, ErrUnsupportedObject):
		case w.Code == http.StatusBadRequest && errors.Is(err, ErrMalformedBody):
		default:
			t.Fatalf("signed body: status %d with parse error %v", w.Code, err)
		}

		got = nil
		forged := sign(append(bytes.Clone(body), ' '), testSecret)
		if w := serve(wh, post(body, forged)); w.Code != http.StatusForbidden || got != nil {
			t.Fatalf("a body with another body's signature got %d", w.Code)
		}
	})
}

// FuzzVerifySignature: VerifySignature accepts exactly one header per body
// and secret, the one Facebook would send, and never panics.
func FuzzVerifySignature(f *testing.F) {
	body := []byte(`{"object":"page","entry":[]}`)
	f.Add(body, sign(body, testSecret), testSecret)
	f.Add(body, strings.ToUpper(sign(body, testSecret)), testSecret)
	f.Add(body, "sha1=0123456789abcdef0123456789abcdef01234567", testSecret)
	f.Add([]byte{}, "sha256=", "")
	f.Add(body, sign(body, "x")[:40], "x")
	f.Fuzz(func(t *testing.T, body []byte, header, secret string) {
		err := VerifySignature(body, header, secret)
		if err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("unexpected error type: %v", err)
		}
		want := sign(body, secret)
		if err == nil && (header != want || secret == "") {
			t.Fatalf("accepted %q; the only valid header is %q", header, want)
		}
		if secret != "" {
			if err := VerifySignature(body, want, secret); err != nil {
				t.Fatalf("refused the right signature: %v", err)
			}
			if err := VerifySignature(append(bytes.Clone(body), 0), want, secret); err == nil {
				t.Fatal("accepted the signature of another body")
			}
		}
	})
}

// FuzzParseSignedRequest: ParseSignedRequest never panics, and accepts only
// a signed_request whose signature is the HMAC-SHA256 of its payload part
// and whose algorithm is HMAC-SHA256.
func FuzzParseSignedRequest(f *testing.F) {
	signed := func(payload, secret string) string {
		p := base64.RawURLEncoding.EncodeToString([]byte(payload))
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(p))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil)) + "." + p
	}
	f.Add(signed(`{"algorithm":"HMAC-SHA256","issued_at":1718000000,"user_id":"1"}`, testSecret), testSecret)
	f.Add(signed(`{"algorithm":"HMAC-SHA1"}`, testSecret), testSecret)
	f.Add(signed(`{"algorithm":"HMAC-SHA256"`, testSecret), testSecret)
	f.Add("a.b", "")
	f.Add("..", testSecret)
	f.Fuzz(func(t *testing.T, sr, secret string) {
		got, err := ParseSignedRequest(sr, secret)
		if err != nil {
			if got != nil || !errors.Is(err, ErrBadSignedRequest) {
				t.Fatalf("unexpected result %v, %v", got, err)
			}
			return
		}
		encSig, encPayload, _ := strings.Cut(sr, ".")
		sig, decErr := base64.RawURLEncoding.DecodeString(strings.TrimRight(encSig, "="))
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(encPayload))
		if decErr != nil || !hmac.Equal(sig, m.Sum(nil)) || secret == "" {
			t.Fatalf("accepted a signed_request whose signature does not match: %q", sr)
		}
		if got.Algorithm != "HMAC-SHA256" {
			t.Fatalf("accepted algorithm %q", got.Algorithm)
		}
	})
}
