package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgChannel is the PostgreSQL notification channel of the live events.
const pgChannel = "pagedesk_live"

// pgBus carries live events between every process that shares one
// PostgreSQL, so that a console connected to one process hears of what
// another did (a webhook that landed there, a staff member served by it).
// Each process NOTIFYs its events and LISTENs for everyone's, its own
// included, and hands them to its hub.
//
// A notification is lost if no connection is listening when it is sent;
// that is acceptable here because an event only tells the console to read
// again, and the console reads everything again when it reconnects.
type pgBus struct {
	pool    *pgxpool.Pool
	dsn     string
	hub     *hub
	log     *slog.Logger
	service string

	out    chan liveEvent
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// busEvent is a live event on the wire, with the service it belongs to:
// processes of other services sharing the database ignore it.
type busEvent struct {
	Service string    `json:"service"`
	Event   liveEvent `json:"event"`
}

// startPGBus starts listening and returns once the first LISTEN is in
// place, so that nothing published after start-up is missed.
func startPGBus(ctx context.Context, pool *pgxpool.Pool, dsn string, h *hub, log *slog.Logger, service string) (*pgBus, error) {
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b := &pgBus{pool: pool, dsn: dsn, hub: h, log: log, service: service, out: make(chan liveEvent, 1024), cancel: cancel}
	conn, err := b.listen(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("postgres: LISTEN %s: %w", pgChannel, err)
	}
	b.wg.Add(2)
	go b.receive(runCtx, conn)
	go b.send(runCtx)
	return b, nil
}

// publish queues an event for every process. It never blocks the caller
// (a webhook or a staff request): when the queue is full the event is
// dropped, and the consoles catch up with the next one.
func (b *pgBus) publish(e liveEvent) {
	select {
	case b.out <- e:
	default:
		b.log.Warn("live event dropped: the notification queue is full", "type", e.Type)
	}
}

// close stops sending and listening.
func (b *pgBus) close() {
	b.cancel()
	b.wg.Wait()
}

func (b *pgBus) send(ctx context.Context) {
	defer b.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-b.out:
			payload, err := json.Marshal(busEvent{Service: b.service, Event: e})
			if err != nil {
				b.log.Error("encode live event", "err", err)
				continue
			}
			if _, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", pgChannel, string(payload)); err != nil && ctx.Err() == nil {
				b.log.Warn("live event not sent to the other processes", "type", e.Type, "err", err)
			}
		}
	}
}

// listen opens a connection of its own (a LISTEN holds it for good, so it
// is not taken from the store's pool) and listens on pgChannel.
func (b *pgBus) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, b.dsn)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{pgChannel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// receive hands every notification of this service to the hub, and
// listens again after a lost connection.
func (b *pgBus) receive(ctx context.Context, conn *pgx.Conn) {
	defer b.wg.Done()
	for {
		err := b.drain(ctx, conn)
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("live events: lost the LISTEN connection; listening again", "err", err)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			if conn, err = b.listen(ctx); err == nil {
				break
			}
			b.log.Warn("live events: LISTEN failed", "err", err)
		}
		// Whatever happened while nobody listened, the consoles re-read.
		b.hub.publish(liveEvent{Type: "resync"})
	}
}

func (b *pgBus) drain(ctx context.Context, conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var e busEvent
		if err := json.Unmarshal([]byte(n.Payload), &e); err != nil {
			b.log.Warn("live events: a notification that is not ours", "err", err)
			continue
		}
		if e.Service == b.service {
			b.hub.publish(e.Event)
		}
	}
}
