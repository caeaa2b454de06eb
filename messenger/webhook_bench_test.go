package messenger

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// batchBody is a delivery of n message events spread over a few Pages, as
// Facebook batches them under load.
func batchBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"object":"page","entry":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		page := 106517805599876 + i%4
		fmt.Fprintf(&b, `{"id":"%d","time":%d,"messaging":[{"sender":{"id":"%d"},"recipient":{"id":"%d"},"timestamp":%d,"message":{"mid":"m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMn%06d","text":"Hello, is the lamp in order %d on its way? Thanks!"}}]}`,
			page, 1718000000000+i, 7010531889057234+i%17, page, 1718000000000+i, i, 10000+i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkParseWebhook(b *testing.B) {
	for _, bc := range []struct {
		name string
		body []byte
	}{
		{"OneMessage", fixture(b, "message.json")},
		{"Batch100", batchBody(100)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			events, err := ParseWebhook(bc.body)
			if err != nil {
				b.Fatal(err)
			}
			n := len(events)
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseWebhook(bc.body); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkVerifyAndParse is what a queue consumer does with a delivery:
// VerifySignature, then ParseWebhook.
func BenchmarkVerifyAndParse(b *testing.B) {
	body := fixture(b, "message.json")
	sig := sign(body, testSecret)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifySignature(body, sig, testSecret); err != nil {
			b.Fatal(err)
		}
		if _, err := ParseWebhook(body); err != nil {
			b.Fatal(err)
		}
	}
}

// nopResponseWriter keeps the recorder's own allocations out of the figure.
type nopResponseWriter struct{ h http.Header }

func (w *nopResponseWriter) Header() http.Header         { return w.h }
func (w *nopResponseWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopResponseWriter) WriteHeader(int)             {}

// BenchmarkWebhookServeHTTP is the whole POST path: capped read, signature,
// parse, a no-op handler, the answer. The request is built once and its
// body rewound, as the server would hand it over.
func BenchmarkWebhookServeHTTP(b *testing.B) {
	for _, bc := range []struct {
		name string
		body []byte
	}{
		{"OneMessage", fixture(b, "message.json")},
		{"Batch100", batchBody(100)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n int
			wh, err := NewWebhook(WebhookConfig{AppSecret: testSecret, VerifyToken: "v",
				Handler: HandlerFunc(func(_ context.Context, events []Event) error { n = len(events); return nil })})
			if err != nil {
				b.Fatal(err)
			}
			rd := bytes.NewReader(bc.body)
			r := httptest.NewRequest(http.MethodPost, "/webhook", rd)
			r.Header.Set(SignatureHeader, sign(bc.body, testSecret))
			w := &nopResponseWriter{h: http.Header{}}
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(bc.body)
				wh.ServeHTTP(w, r)
			}
			if n == 0 {
				b.Fatal("the handler got no events")
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
