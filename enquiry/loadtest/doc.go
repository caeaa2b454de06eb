// Package loadtest is the proof, under load and faults, that PageDesk loses
// nothing, records nothing twice and sends nothing twice: a test of the
// whole inbound and outbound path (the real messenger webhook, signed
// deliveries, enquiry.Service, a store, the fake Graph API of
// messengertest), with the benchmarks and the multi-process scale-out that
// give its figures. The package holds tests only; this file documents
// them.
//
// # The load and fault test
//
// TestLoad drives signed webhook deliveries through messenger.NewWebhook's
// handler into an enquiry.Service, as Facebook would:
//
//   - events (text messages, quick replies and postbacks) from visitors
//     spread over Pages and services, batched one to three per delivery,
//     delivered by many workers at once in an order that mixes each
//     visitor's events;
//   - a share of the deliveries redelivered although they were accepted
//     (Facebook's retry after a slow answer), some while the first copy is
//     still being handled;
//   - every delivery answered non-2xx delivered again until it is accepted
//     (bounded: a delivery refused 100 times fails the test);
//   - a store wrapper failing a share of the writes, half of them after the
//     real write committed (the error a lost connection gives after
//     COMMIT);
//   - Graph API faults on sends and profile fetches: rate limits, 5xx
//     answers and dropped connections served by a second messengertest
//     server (FailNext, Drop), and answers lost after Facebook processed
//     the send (the send reaches the fake, the client sees a time-out);
//   - the echo of every message the fake accepted, delivered back through
//     the webhook as Facebook does;
//   - staff at the same time: taking enquiries under a small RULE-4 limit,
//     replying (retrying what certainly did not go out, never what may
//     have), closing.
//
// Then it checks, from the store and from what the fake Graph API
// received: every distinct event recorded exactly once (lost = 0,
// duplicated = 0); at most one open enquiry per visitor and channel; no
// recorded message sent twice, no staff text twice to a visitor, the
// welcome at most once per visitor and the away and close replies at most
// once per enquiry; every message the fake accepted confirmed by its echo
// in the store and every message recorded as sent known to the fake;
// never more than the limit taken at once in a service (sampled after
// every take, and at the end); no message sent outside the 24-hour window
// (RULE-5), checked at the moment the fake receives it, and none with the
// HUMAN_AGENT tag but a staff reply on a channel that opted in. It logs
// the figures and a summary line:
//
//	loadtest memstore: events=2000 deliveries=... redeliveries=... store-faults=... graph-faults=... lost=0 duplicated=0 events/s=...
//
// It runs on memstore, and on sqlstore when SQLSTORE_DSN names a
// PostgreSQL (see store/sqlstore's package doc to start one); without it
// the sqlstore run is skipped with a message saying so. The short form
// (2,000 events, 100 visitors) runs with the other tests; the long form
// meets the figures (10,000 events, 500 visitors, 20 Pages, 32
// concurrent deliveries, 20% redelivered, 5% of store writes failing):
//
//	go test -race -run TestLoad -v ./enquiry/loadtest/ -args -loadtest.long
//
// Every size is a flag: -loadtest.events, -loadtest.visitors,
// -loadtest.pages, -loadtest.services, -loadtest.concurrency,
// -loadtest.redeliver, -loadtest.storefaults, -loadtest.graphfaults,
// -loadtest.limit.
//
// # The multi-process scale-out
//
// TestScaleOut (sqlstore only) runs the test binary again as 1, 2 and 4
// child processes sharing one PostgreSQL schema, each with its own
// enquiry.Service, webhook and fake Graph API. Each process ingests its
// share of the deliveries; the redeliveries land on another process, so
// every event is recorded by two processes racing. All start together;
// afterwards the parent checks the invariants across processes (each
// event recorded once, one open enquiry per visitor, each welcome sent
// once in all) and logs the events per second for each process count:
//
//	go test -run TestScaleOut -v ./enquiry/loadtest/ -args -loadtest.long
//
// # Figures
//
// The throughput and size figures on a machine come from the benchmarks
// of the packages that own each step, and those of this package for the
// whole path:
//
//	go test -run '^$' -bench 'VerifyAndParse|SendText' -benchtime 2s ./messenger/
//	go test -run '^$' -bench . -benchtime 2s ./enquiry/loadtest/
//	go test -run '^$' -bench Memory -benchtime 1x ./store/memstore/
//
// BenchmarkVerifyAndParse gives the webhook's signature check and parse
// (ns/op, allocs/op); BenchmarkIngest the end-to-end events per second
// through the webhook into enquiry.Service on memstore and on sqlstore
// with 1, 8 and 32 concurrent deliveries; BenchmarkReply the cost of
// enquiry.Service.Reply beside the bare messenger send to the same fake
// Graph API (the send path's overhead: the rule checks and the two
// store writes); and memstore's BenchmarkMemory the bytes a store holds
// per open enquiry.
package loadtest
