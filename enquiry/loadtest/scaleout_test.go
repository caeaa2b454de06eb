package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
)

var (
	flagProcesses  = flag.String("loadtest.processes", "", "process counts of the scale-out, comma-separated; empty means 1,2 (1,2,4 with -loadtest.long)")
	flagPerProcess = flag.Bool("loadtest.perprocess", false, "scale-out: -loadtest.concurrency deliveries in flight per process (capacity added with each process) rather than in all")
)

// childEnv names the spec file of a child process of TestScaleOut.
const childEnv = "PAGEDESK_LOADTEST_CHILD"

// readyLine is what a child prints once it is ready to ingest; it then
// waits for a line on its stdin.
const readyLine = "loadtest-child-ready"

// childSpec is what a child process of TestScaleOut is given.
type childSpec struct {
	Schema      string
	Pages       int
	Services    int
	Staff       int
	Limit       int
	Concurrency int
	PSIDs       []string
	Deliveries  []childDelivery
	Result      string // where to write the childResult
}

type childDelivery struct {
	Body   []byte
	Sig    string
	Events int
}

// childResult is what a child reports.
type childResult struct {
	Posts, Firsts, Retries, Refused, GaveUp, Echoes int64
	Elapsed                                         time.Duration
	Sent                                            []messengertest.SentMessage
	Violations, Failures                            []string
	Heard                                           []string // keys of the inbound items its Notifier heard of
}

// TestScaleOut runs 1, 2 (and 4) processes sharing one PostgreSQL schema,
// each its own enquiry.Service behind its own webhook, ingesting their
// share of one traffic plan at once; each redelivery lands on another
// process than its first delivery, so the processes race to record the
// same events. Then it checks the invariants across the processes and
// logs the throughput for each process count. Facebook's in-flight
// deliveries (-loadtest.concurrency) are spread over the processes, as a
// load balancer would (with -loadtest.perprocess each process has that
// many); no faults are injected, so the figures measure the ingest path.
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	sqlPool(t) // skips without SQLSTORE_DSN
	cfg := configFromFlags()
	cfg.storeFaults, cfg.readFaults, cfg.graphFaults = 0, 0, 0
	procs := *flagProcesses
	if procs == "" {
		procs = "1,2"
		if *flagLong {
			procs = "1,2,4"
		}
	}
	var base float64
	for _, f := range strings.Split(procs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		require.NoError(t, err, "-loadtest.processes")
		require.Positive(t, n, "-loadtest.processes")
		t.Run(fmt.Sprintf("processes=%d", n), func(t *testing.T) {
			rate := scaleOut(t, cfg, n)
			if base == 0 {
				base = rate
			}
			t.Logf("scaleout processes=%d: events/s=%.0f (x%.2f of the first run)", n, rate, rate/base)
		})
	}
}

// scaleOut runs one scale-out with n processes and returns the events per
// second of the whole.
func scaleOut(t *testing.T, cfg config, n int) float64 {
	schema := newSchema(t, sqlPool(t))
	st := sqlStoreIn(t, schema)
	require.NoError(t, st.Migrate(t.Context()))
	w := newWorld(t, cfg, func(testing.TB) store.Store { return st })

	// Each delivery goes to one process; its redelivery to another, at
	// about the same point of that process's share.
	rng := mrand.New(mrand.NewPCG(cfg.seed, 0x5ca1e))
	shares := make([][]childDelivery, n)
	cross := 0
	for _, d := range w.plan.deliveries {
		i := rng.IntN(n)
		cd := childDelivery{Body: d.body, Sig: d.sig, Events: d.events}
		shares[i] = append(shares[i], cd)
		if d.redeliver {
			j := i
			if n > 1 {
				j = (i + 1 + rng.IntN(n-1)) % n
				cross++
			}
			shares[j] = append(shares[j], cd)
		}
	}
	var psids []string
	for _, v := range w.plan.visitors {
		psids = append(psids, v.psid)
	}

	dir := t.TempDir()
	type child struct {
		cmd    *exec.Cmd
		stdin  interface{ Write([]byte) (int, error) }
		ready  chan error
		done   chan error
		stderr *strings.Builder
		result string
	}
	children := make([]*child, n)
	for i := range n {
		spec := childSpec{
			Schema: schema, Pages: cfg.pages, Services: cfg.services, Staff: cfg.staff, Limit: cfg.limit,
			Concurrency: perProcess(cfg.concurrency, n), PSIDs: psids, Deliveries: shares[i],
			Result: filepath.Join(dir, fmt.Sprintf("result-%d.json", i)),
		}
		data, err := json.Marshal(spec)
		require.NoError(t, err)
		specPath := filepath.Join(dir, fmt.Sprintf("spec-%d.json", i))
		require.NoError(t, os.WriteFile(specPath, data, 0o600))

		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestScaleOutChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+specPath)
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		c := &child{cmd: cmd, stdin: stdin, ready: make(chan error, 1), done: make(chan error, 1),
			stderr: &strings.Builder{}, result: spec.Result}
		cmd.Stderr = &syncWriter{w: c.stderr}
		require.NoError(t, cmd.Start())
		go func() {
			sc := bufio.NewScanner(stdout)
			var out []string
			for sc.Scan() {
				if sc.Text() == readyLine {
					c.ready <- nil
					continue
				}
				out = append(out, sc.Text())
			}
			c.ready <- fmt.Errorf("child %d ended before it was ready: %s", i, strings.Join(out, "\n"))
			err := cmd.Wait()
			if err != nil {
				err = fmt.Errorf("child %d: %w\nstdout:\n%s\nstderr:\n%s", i, err, strings.Join(out, "\n"), c.stderr.String())
			}
			c.done <- err
		}()
		children[i] = c
	}
	for _, c := range children {
		require.NoError(t, <-c.ready)
	}
	start := time.Now()
	for _, c := range children {
		_, err := c.stdin.Write([]byte("go\n"))
		require.NoError(t, err)
	}
	for _, c := range children {
		require.NoError(t, <-c.done)
	}
	wall := time.Since(start)

	var sent []messengertest.SentMessage
	var posts, refused, gaveUp int64
	var violations, failures []string
	for i, c := range children {
		data, err := os.ReadFile(c.result)
		require.NoError(t, err)
		var r childResult
		require.NoError(t, json.Unmarshal(data, &r))
		sent = append(sent, r.Sent...)
		for _, k := range r.Heard {
			w.heard.Store(k, true)
		}
		posts += r.Posts
		refused += r.Refused
		gaveUp += r.GaveUp
		violations = append(violations, r.Violations...)
		failures = append(failures, r.Failures...)
		t.Logf("process %d: %d deliveries in %v (%.0f deliveries/s), %d refused, %d echoes, %d sends",
			i, r.Firsts, r.Elapsed.Round(time.Millisecond), float64(r.Firsts)/r.Elapsed.Seconds(), r.Refused, r.Echoes, len(r.Sent))
	}

	w.faultsOff()
	f := w.check(t.Context(), sent)
	for _, pr := range f.problems {
		t.Log("problem:", pr)
	}
	events := len(w.plan.events)
	rate := float64(events) / wall.Seconds()
	t.Logf("scaleout processes=%d (%d in flight each): events=%d deliveries=%d posts=%d cross-process-redeliveries=%d refused=%d welcomes=%d lost=%d duplicated=%d wall=%v events/s=%.0f",
		n, perProcess(cfg.concurrency, n), events, len(w.plan.deliveries), posts, cross, refused, f.welcomes, f.lost, f.duplicated, wall.Round(time.Millisecond), rate)

	assert.Zero(t, gaveUp, "deliveries never accepted: %v", failures)
	assert.Empty(t, violations, "RULE-5 breaches seen by the children's fakes")
	assert.Zero(t, f.lost, "events lost")
	assert.Zero(t, f.duplicated, "events recorded twice")
	assert.Zero(t, f.unexpected, "inbound messages nobody sent")
	assert.Zero(t, f.openTwice, "visitors with two open enquiries on a channel")
	assert.Zero(t, f.sentTwice, "recorded messages sent twice")
	assert.Zero(t, f.welcomeTwice, "visitors welcomed twice, across the processes")
	assert.Zero(t, f.awayTwice, "enquiries with two away replies, across the processes")
	assert.Zero(t, f.unrecorded, "sends the store does not hold")
	assert.Zero(t, f.unconfirmed, "sends that reached Facebook but are not recorded as sent")
	assert.Zero(t, f.phantom, "messages recorded as sent that never reached Facebook")
	assert.Zero(t, f.windowWrong, "visitors and enquiries whose LastInboundAt is not their latest message's")
	assert.Zero(t, f.welcomeSkipped, "welcomes due but never attempted")
	assert.Zero(t, f.unheard, "inbound items no process's Notifier heard of")
	assert.Positive(t, f.welcomes, "welcomes sent")
	return rate
}

// perProcess is how many deliveries each of n processes has in flight.
func perProcess(concurrency, n int) int {
	if *flagPerProcess {
		return concurrency
	}
	return max(1, concurrency/n)
}

// TestScaleOutChild is one process of TestScaleOut; run on its own, it
// skips.
func TestScaleOutChild(t *testing.T) {
	specPath := os.Getenv(childEnv)
	if specPath == "" {
		t.Skip("a child process of TestScaleOut; it runs only when TestScaleOut starts it")
	}
	data, err := os.ReadFile(specPath)
	require.NoError(t, err)
	var spec childSpec
	require.NoError(t, json.Unmarshal(data, &spec))
	cfg := config{
		pages: spec.Pages, services: spec.Services, staff: spec.Staff, limit: spec.Limit,
		concurrency: spec.Concurrency, seed: 1, existing: true, noPlan: true,
	}
	w := newWorld(t, cfg, func(t testing.TB) store.Store { return sqlStoreIn(t, spec.Schema) })
	for _, psid := range spec.PSIDs {
		w.fake.AddProfile(psid, messenger.Profile{FirstName: "Visitor", LastName: psid})
	}
	ds := make([]*delivery, len(spec.Deliveries))
	for i, d := range spec.Deliveries {
		ds[i] = &delivery{body: d.Body, sig: d.Sig, events: d.Events}
	}

	ctx := context.Background()
	fbDone := make(chan struct{})
	go func() {
		defer close(fbDone)
		w.fb.run(ctx, spec.Concurrency)
	}()
	fmt.Println(readyLine)
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	require.NoError(t, err, "waiting for the start")
	require.Equal(t, "go\n", line)
	start := time.Now()
	w.fb.add(ds...)
	w.fb.wait()
	elapsed := time.Since(start)
	w.fb.close()
	<-fbDone

	w.mu.Lock()
	violations := w.violations
	w.mu.Unlock()
	w.fb.mu.Lock()
	failures := w.fb.failures
	w.fb.mu.Unlock()
	var heard []string
	w.heard.Range(func(k, _ any) bool {
		heard = append(heard, k.(string))
		return true
	})
	res := childResult{Heard: heard,
		Posts: w.fb.posts.Load(), Firsts: w.fb.firsts.Load(), Retries: w.fb.retries.Load(),
		Refused: w.fb.refused.Load(), GaveUp: w.fb.gaveUp.Load(), Echoes: w.fb.echoes.Load(),
		Elapsed: elapsed, Sent: w.fake.Sent(""), Violations: violations, Failures: failures,
	}
	data, err = json.Marshal(res)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(spec.Result, data, 0o600))
}

// syncWriter serialises writes to a strings.Builder.
type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
