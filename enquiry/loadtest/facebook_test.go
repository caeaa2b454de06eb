package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/pagedesk/pagedesk/messenger"
)

// maxAttempts bounds how often Facebook delivers one delivery that is not
// accepted; one that reaches it is lost, and fails the test.
const maxAttempts = 100

// facebook delivers webhook deliveries as Facebook does: from a queue, by
// a number of concurrent workers; a delivery answered non-2xx goes back
// into the queue and is delivered again until it is accepted (at most
// maxAttempts times); a delivery marked redeliver is delivered once more
// after it was accepted, a little later, possibly while its first copy is
// still being handled.
type facebook struct {
	post func(ctx context.Context, d *delivery) (int, error)

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []*attempt
	inflight int
	closed   bool

	posts        atomic.Int64 // every POST
	firsts       atomic.Int64 // first POSTs of a delivery
	redeliveries atomic.Int64 // POSTs of an accepted delivery (Facebook's duplicates)
	retries      atomic.Int64 // POSTs after a non-2xx answer
	refused      atomic.Int64 // non-2xx answers
	gaveUp       atomic.Int64 // deliveries never accepted
	echoes       atomic.Int64 // echo deliveries
	failures     []string     // why deliveries were given up (under mu)
}

// attempt is a delivery in the queue.
type attempt struct {
	d        *delivery
	tries    int  // POSTs of this copy so far
	dup      bool // the copy Facebook sends again after acceptance
	accepted bool
}

func newFacebook(post func(ctx context.Context, d *delivery) (int, error)) *facebook {
	fb := &facebook{post: post}
	fb.cond = sync.NewCond(&fb.mu)
	return fb
}

// inProcess posts deliveries to a handler through ServeHTTP.
func inProcess(h http.Handler) func(ctx context.Context, d *delivery) (int, error) {
	return func(ctx context.Context, d *delivery) (int, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://pagedesk.test/webhook", bytes.NewReader(d.body))
		if err != nil {
			return 0, err
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(messenger.SignatureHeader, d.sig)
		w := &recorder{}
		h.ServeHTTP(w, r)
		return w.status(), nil
	}
}

// overHTTP posts deliveries to url with client.
func overHTTP(client *http.Client, url string) func(ctx context.Context, d *delivery) (int, error) {
	return func(ctx context.Context, d *delivery) (int, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.body))
		if err != nil {
			return 0, err
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(messenger.SignatureHeader, d.sig)
		resp, err := client.Do(r)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	h    http.Header
	code int
}

func (w *recorder) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(p), nil
}

func (w *recorder) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *recorder) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// add queues deliveries at the back, in order.
func (fb *facebook) add(ds ...*delivery) {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	for _, d := range ds {
		fb.queue = append(fb.queue, &attempt{d: d})
	}
	fb.cond.Broadcast()
}

// addEcho queues a delivery made by the Page's own send (an echo).
func (fb *facebook) addEcho(d *delivery) {
	fb.echoes.Add(1)
	fb.add(d)
}

// soon puts a back into the queue a little way from the front: delivered
// again shortly, among the deliveries in flight.
func (fb *facebook) soon(a *attempt) {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	i := rand.IntN(min(len(fb.queue), 64) + 1)
	fb.queue = append(fb.queue, nil)
	copy(fb.queue[i+1:], fb.queue[i:])
	fb.queue[i] = a
	fb.cond.Broadcast()
}

// run delivers with n workers until close, then returns.
func (fb *facebook) run(ctx context.Context, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { fb.work(ctx) })
	}
	wg.Wait()
}

func (fb *facebook) work(ctx context.Context) {
	for {
		fb.mu.Lock()
		for len(fb.queue) == 0 && !fb.closed {
			fb.cond.Wait()
		}
		if len(fb.queue) == 0 {
			fb.mu.Unlock()
			return
		}
		a := fb.queue[0]
		fb.queue = fb.queue[1:]
		fb.inflight++
		fb.mu.Unlock()

		fb.deliver(ctx, a)

		fb.mu.Lock()
		fb.inflight--
		fb.cond.Broadcast()
		fb.mu.Unlock()
	}
}

func (fb *facebook) deliver(ctx context.Context, a *attempt) {
	a.tries++
	fb.posts.Add(1)
	switch {
	case a.tries > 1:
		fb.retries.Add(1)
	case a.dup:
		fb.redeliveries.Add(1)
	default:
		fb.firsts.Add(1)
	}
	code, err := fb.post(ctx, a.d)
	if err != nil || code < 200 || code > 299 {
		fb.refused.Add(1)
		a.d.refused.Store(true)
		if a.tries >= maxAttempts {
			fb.gaveUp.Add(1)
			fb.mu.Lock()
			fb.failures = append(fb.failures, fmt.Sprintf("a delivery of %d events was refused %d times (last: %d, %v)", a.d.events, a.tries, code, err))
			fb.mu.Unlock()
			return
		}
		fb.soon(a)
		return
	}
	if !a.accepted && !a.dup {
		a.accepted = true
		if a.d.redeliver {
			fb.soon(&attempt{d: a.d, dup: true})
		}
	}
}

// wait returns once the queue is empty and nothing is in flight.
func (fb *facebook) wait() {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	for len(fb.queue) > 0 || fb.inflight > 0 {
		fb.cond.Wait()
	}
}

// close stops the workers once the queue is empty.
func (fb *facebook) close() {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	fb.closed = true
	fb.cond.Broadcast()
}
