// Package loadtest is the proof, under load and faults, that PageDesk loses
// nothing, records nothing twice and sends nothing twice: tests of the
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
//     spread over Pages of several services, batched one to three per
//     delivery, delivered by many workers at once in an order that mixes
//     each visitor's events; some visitors wrote more than 24 hours ago,
//     some partly;
//   - a share of the deliveries redelivered although they were accepted
//     (Facebook's retry after a slow answer), a little later, often while
//     the first copy is still being handled;
//   - every delivery answered non-2xx delivered again until it is accepted
//     (bounded: a delivery refused 100 times fails the test);
//   - a store wrapper failing a share of the writes, half of them after the
//     real write committed (the error a connection lost after COMMIT
//     gives), and a smaller share of the reads;
//   - Graph API faults on sends and profile fetches: rate limits, 5xx
//     answers and dropped connections served by a second messengertest
//     server (FailNext and Drop, each armed for the one call that meets
//     it), and answers lost after the fake processed the send (a time-out
//     after the request was written);
//   - the echo of every message the fake accepted delivered back through
//     the webhook, now and then with a read receipt, as Facebook does;
//   - staff at the same time: taking enquiries under a small RULE-4 limit,
//     replying (trying again what certainly did not go out, never what may
//     have), handing some to colleagues, closing; then, a day later by the
//     injected clock, answering what they still hold (only HUMAN_AGENT
//     replies on the channels that opted in may go) and closing it.
//
// Then it checks, from the store and from what the fake Graph API
// received:
//
//   - every distinct event recorded exactly once (lost = 0, duplicated = 0),
//     on its visitor's conversation, and the host's Notifier told of each
//     at least once (those recorded by a call whose answer was lost too:
//     they are announced when Facebook delivers them again);
//   - at most one open enquiry per visitor and channel;
//   - nothing sent twice: no recorded message twice, no staff text twice to
//     a visitor, the welcome at most once per visitor, the away and close
//     replies at most once per enquiry; no send the store does not hold;
//   - every message the fake accepted recorded as sent (its echo proves
//     it), every message recorded as sent known to the fake, no staff
//     message left pending;
//   - a welcome attempted for every visitor whose first message was within
//     the window (unless the delivery of that message failed and staff
//     closed its enquiry before Facebook delivered it again: counted
//     apart);
//   - a close reply attempted for every enquiry staff closed within the
//     window, also when the store failed during the Close (staff try a
//     failed Close again at once: Close is idempotent and sees to the
//     close reply on every call);
//   - each visitor's and enquiry's LastInboundAt (from which RULE-5 is
//     judged) the time of their latest recorded message;
//   - RULE-4: never more than the limit taken in a service, sampled after
//     every take, and at the end the store's count equal to what is there;
//   - RULE-5: no message sent outside the 24-hour window, judged by the
//     fake at the moment it receives the send against what the store
//     holds, and none with the HUMAN_AGENT tag but a staff reply on a
//     channel that opted in (7 days).
//
// It logs the figures and a summary line:
//
//	loadtest sqlstore: events=10000 deliveries=... redeliveries=... store-faults=... graph-faults=... lost=0 duplicated=0 events/s=...
//
// where deliveries counts every POST, and redeliveries those of accepted
// deliveries plus those after a non-2xx answer.
//
// It runs on memstore, and on sqlstore when SQLSTORE_DSN names a
// PostgreSQL (see store/sqlstore's package doc to start one); without it
// the sqlstore run is skipped with a message saying so. The short form
// (2,000 events from 100 visitors) runs with the other tests, a few seconds
// with -race; the long form meets the figures (10,000 events from
// 500 visitors on 20 Pages, 32 deliveries in flight, 20% redelivered, 5%
// of store writes failing, 10% of Graph sends failing, a RULE-4 limit of
// 20):
//
//	go test -race -run TestLoad -v ./enquiry/loadtest/ -args -loadtest.long
//
// Every size is a flag: -loadtest.events, -loadtest.visitors,
// -loadtest.pages, -loadtest.services, -loadtest.concurrency,
// -loadtest.redeliver, -loadtest.storefaults, -loadtest.readfaults,
// -loadtest.graphfaults, -loadtest.limit, -loadtest.staff, and
// -loadtest.loopback delivers over loopback HTTP instead of calling the
// handler's ServeHTTP; -loadtest.seed replays a traffic plan (the order of
// concurrent work is not replayed).
//
// # The multi-process scale-out
//
// TestScaleOut (sqlstore only) runs the test binary again as 1 and 2
// child processes (1, 2 and 4 with -loadtest.long, or
// -loadtest.processes) sharing one PostgreSQL schema, each with its own
// enquiry.Service, webhook and fake Graph API. Each process ingests its
// share of the deliveries; the redeliveries land on another process than
// the first copy, at about the same time, so the processes race to record
// the same events. The in-flight deliveries (-loadtest.concurrency) are
// spread over the processes, as a load balancer spreads Facebook's (with
// -loadtest.perprocess, each process has that many: capacity added). All
// start together; afterwards the parent checks the invariants across the
// processes (each event recorded once, one open enquiry per visitor, each
// welcome and away reply sent once in all, echoes confirmed) and logs the
// events per second for each process count:
//
//	go test -run TestScaleOut -v ./enquiry/loadtest/ -args -loadtest.long
//
// No faults are injected there, so the figures measure the ingest path.
//
// # Figures
//
// The throughput and size figures on a machine come from the benchmarks
// of the packages that own each step, and those of this package for the
// whole path (SQLSTORE_DSN set for the sqlstore ones):
//
//	go test -run '^$' -bench 'VerifyAndParse|SendText' -benchtime 2s ./messenger/
//	go test -run '^$' -bench . -benchtime 2s ./enquiry/loadtest/
//	go test -run '^$' -bench Memory -benchtime 1x ./store/memstore/
//
// messenger's BenchmarkVerifyAndParse gives the webhook's signature check
// and parse of a one-message delivery (ns/op, allocs/op). BenchmarkIngest
// gives the end-to-end events per second through the webhook into
// enquiry.Service on memstore and on sqlstore with 1, 8 and 32 deliveries
// in flight (conversations of ten messages: every tenth event opens an
// enquiry, fetches a profile, sends the welcome and offers the enquiry).
// BenchmarkReply gives enquiry.Service.Reply through to the fake Graph API
// beside graph-only, the bare messenger send of the same text to the same
// fake: the difference is the send path's overhead (the rule checks,
// reading the enquiry and the channel, recording the message pending,
// then sent). memstore's BenchmarkMemory gives the bytes a memstore holds
// per open enquiry (B/enquiry, with ten messages each).
package loadtest
